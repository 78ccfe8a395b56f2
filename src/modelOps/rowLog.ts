/**
 * The rows a model key has collected (towards its cold start, or the recent normal windows it
 * fine-tunes on), kept in a compacted topic so that a restart or a rebalance resumes the
 * collection instead of starting it again.
 *
 *   key    `<modelKey>#<purpose>#<slot>`   purpose `cold` or `recent`; slot = chunk mod slots
 *   value  one chunk of rows (rowChunks.ts)
 *
 * Rows are numbered as collected (RowCollector.appended); chunk c holds rows [c·N, (c+1)·N) with
 * N = `perChunk` (256, fewer for wide series so a chunk stays under 512 KiB). A flush rewrites the
 * chunks that grew since the last one; the topic keeps the latest of each. A ring of `capacity`
 * rows spans at most ceil(capacity / N) + 1 chunks, so slots are reused only once their rows fell
 * out. When the model is trained, the cold-start chunks get tombstones.
 *
 * Every instance follows the topic (topicFollower.ts) and keeps its live chunks in memory, so a
 * key an instance takes over is read back without a fetch. Rows written after the last flush
 * (every `flushMs`, and on close) are collected again from the re-read input, or are missing
 * from the series (a gap, like the switch between two entities of a group).
 *
 * Example:
 *   const log = await openRowLog({ kafka, topic: 'diffwatch.rows', log });
 *   const rows = new RowCollector(2_063);
 *   const saved = await log.take('entity:pump-7', 'cold');
 *   if (saved) rows.restore(saved);
 *   log.attach('entity:pump-7', 'cold', rows);   // flushed as it grows
 *   log.drop('entity:pump-7', 'cold');           // trained: tombstones
 */
import kafkajs, { type Kafka, type KafkaMessage, type Message, type Producer } from 'kafkajs';
import type { Logger } from '../log.ts';
import { chunkByBytes } from '../sinks/stateStore.ts';
import type { RowCollector } from './rowCollector.ts';
import { encodeChunk, joinChunks, rowsPerChunk, type SavedRows } from './rowChunks.ts';
import { createTopicFollower, ensureCompactedTopic } from './topicFollower.ts';

export type RowPurpose = 'cold' | 'recent';
export type { SavedRows } from './rowChunks.ts';

export const ROW_TOPIC_CONFIG: Readonly<Record<string, string>> = Object.freeze({ 'cleanup.policy': 'compact', 'max.message.bytes': String(1024 * 1024) });

export interface RowLog {
  /** The rows saved for `key`'s `purpose`, once caught up with the topic; undefined when none. */
  take(key: string, purpose: RowPurpose): Promise<SavedRows | undefined>;
  /** Persist the collector's rows as it grows, from the next flush on. */
  attach(key: string, purpose: RowPurpose, rows: RowCollector): void;
  /** Stop persisting, and delete what the topic holds (tombstones at the next flush). */
  drop(key: string, purpose: RowPurpose): void;
  /** Write what grew, then stop persisting these keys (their partitions went to another instance). */
  release(keys: readonly string[]): Promise<void>;
  /** The next `take` catches up with the topic again (after a partition rebalance). */
  refresh(): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

interface Attached {
  rows: RowCollector;
  /** Rows written so far (a sequence number). */
  flushed: number;
  perChunk: number;
  slots: number;
}

export interface RowLogOptions {
  kafka: Kafka;
  topic: string;
  log: Logger;
  /** ms between flushes. Default 5 000. */
  flushMs?: number;
  catchUpTimeoutMs?: number;
}

const slotKey = (key: string, purpose: RowPurpose) => `${key}#${purpose}`;

export async function openRowLog(opts: RowLogOptions): Promise<RowLog> {
  const { kafka, topic, log } = opts;
  /** Live chunks per `<key>#<purpose>`, by slot, as read from the topic. */
  const held = new Map<string, Map<number, Buffer>>();
  const attached = new Map<string, Attached>();
  const tombstones = new Set<string>();
  let producer: Producer | undefined;
  let synced: Promise<void> | undefined;
  let flushing: Promise<void> = Promise.resolve();

  const apply = (_partition: number, m: KafkaMessage) => {
    const k = m.key?.toString('utf8') ?? '';
    const at = k.lastIndexOf('#');
    if (at < 0) return;
    const owner = k.slice(0, at);
    const slots = held.get(owner) ?? new Map<number, Buffer>();
    if (m.value === null) slots.delete(Number(k.slice(at + 1)));
    else slots.set(Number(k.slice(at + 1)), m.value);
    if (slots.size === 0) held.delete(owner);
    else held.set(owner, slots);
  };

  /** The messages of one flush: chunks that grew, then tombstones. */
  function pending(): { messages: Message[]; marks: (() => void)[] } {
    const messages: Message[] = [];
    const marks: (() => void)[] = [];
    for (const [owner, a] of attached) {
      const end = a.rows.appended;
      if (end <= a.flushed) continue;
      const channels = [...(a.rows.channels ?? [])];
      if (a.perChunk === 0) Object.assign(a, { perChunk: rowsPerChunk(channels.length), slots: Math.ceil(a.rows.capacity / rowsPerChunk(channels.length)) + 1 });
      for (let c = Math.floor(a.flushed / a.perChunk); c * a.perChunk < end; c++) {
        const r = a.rows.rows(c * a.perChunk, Math.min((c + 1) * a.perChunk, end));
        if (r.timestamps.length === 0) continue;
        const value = encodeChunk({ chunk: c, first: r.first, perChunk: a.perChunk, channels, newest: a.rows.newestTimes() }, r.timestamps, r.values);
        messages.push({ key: `${owner}#${c % a.slots}`, value });
      }
      marks.push(() => (a.flushed = Math.max(a.flushed, end)));
    }
    for (const k of tombstones) messages.push({ key: k, value: null });
    const sent = [...tombstones];
    marks.push(() => sent.forEach((k) => tombstones.delete(k)));
    return { messages, marks };
  }

  async function flushNow(): Promise<void> {
    const { messages, marks } = pending();
    if (messages.length === 0) return;
    try {
      if (!producer) {
        const p = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
        await p.connect();
        producer = p;
      }
      for (const batch of chunkByBytes(messages, 900_000)) await producer.sendBatch({ topicMessages: [{ topic, messages: batch }], acks: -1 });
      marks.forEach((m) => m());
    } catch (e) {
      // Nothing is marked written: the next flush sends it again.
      log.warn('collected rows not written', { topic, messages: messages.length, error: (e as Error).message });
    }
  }

  const flush = () => (flushing = flushing.then(flushNow));

  await ensureCompactedTopic(kafka, topic, ROW_TOPIC_CONFIG, log);
  const follower = createTopicFollower({ kafka, topic, apply, log, groupPrefix: 'diffwatch-rows', catchUpTimeoutMs: opts.catchUpTimeoutMs });
  await follower.start();
  const timer = setInterval(() => void flush(), opts.flushMs ?? 5_000);
  timer.unref();

  return {
    async take(key, purpose) {
      if (!synced) {
        const p = follower.caughtUp();
        synced = p;
        p.catch(() => synced === p && (synced = undefined));
      }
      await synced;
      const chunks = held.get(slotKey(key, purpose));
      if (!chunks) return undefined;
      try {
        return joinChunks([...chunks.values()]);
      } catch (e) {
        log.warn('collected rows unreadable; collecting again', { topic, key, purpose, error: (e as Error).message });
        return undefined;
      }
    },
    attach(key, purpose, rows) {
      const owner = slotKey(key, purpose);
      // Before the first window the channels are unknown: the first flush fixes perChunk (0 until then).
      attached.set(owner, { rows, flushed: rows.appended, perChunk: 0, slots: 0 });
    },
    drop(key, purpose) {
      const owner = slotKey(key, purpose);
      const a = attached.get(owner);
      attached.delete(owner);
      const slots = new Set(held.get(owner)?.keys());
      if (a && a.perChunk > 0) for (let s = 0; s < Math.min(a.slots, Math.ceil(a.rows.appended / a.perChunk)); s++) slots.add(s);
      for (const s of slots) tombstones.add(`${owner}#${s}`);
      held.delete(owner);
    },
    async release(keys) {
      await flush();
      for (const key of keys) for (const purpose of ['cold', 'recent'] as const) attached.delete(slotKey(key, purpose));
    },
    refresh() {
      synced = undefined;
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
      await follower.stop();
      await producer?.disconnect();
      producer = undefined;
    },
  };
}
