/**
 * The rows a model key has collected (towards its cold start, or the recent normal windows it
 * fine-tunes on), kept in a compacted topic so that a restart or a rebalance resumes the
 * collection instead of starting it again.
 *
 *   key    `<modelKey>#<purpose>#<slot>`   purpose `cold` or `recent`; slot = chunk mod slots
 *   value  u32 header bytes | header JSON {v, chunk, first, rows, perChunk, channels, newest}
 *          | float64 timestamps [rows] | float64 values [rows, C] (little-endian)
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
import { createTopicFollower, ensureCompactedTopic } from './topicFollower.ts';

export type RowPurpose = 'cold' | 'recent';

/** Largest chunk value; the topic takes 1 MiB. */
const CHUNK_MAX_BYTES = 512 * 1024;
const ROWS_PER_CHUNK = 256;
export const ROW_TOPIC_CONFIG: Readonly<Record<string, string>> = Object.freeze({ 'cleanup.policy': 'compact', 'max.message.bytes': String(1024 * 1024) });

export interface SavedRows {
  channels: string[];
  values: Float64Array;
  timestamps: Float64Array;
  newest: Record<string, number>;
  appended: number;
}

interface ChunkHeader {
  v: 1;
  chunk: number;
  first: number;
  rows: number;
  perChunk: number;
  channels: string[];
  newest: Record<string, number>;
}

export const rowsPerChunk = (channels: number) => Math.max(1, Math.min(ROWS_PER_CHUNK, Math.floor(CHUNK_MAX_BYTES / ((channels + 1) * 8))));

export function encodeChunk(h: Omit<ChunkHeader, 'v' | 'rows'>, timestamps: Float64Array, values: Float64Array): Buffer {
  const head = Buffer.from(JSON.stringify({ v: 1, ...h, rows: timestamps.length }), 'utf8');
  const out = Buffer.alloc(4 + head.length + 8 * (timestamps.length + values.length));
  out.writeUInt32BE(head.length, 0);
  head.copy(out, 4);
  let at = 4 + head.length;
  for (const x of timestamps) at = out.writeDoubleLE(x, at);
  for (const x of values) at = out.writeDoubleLE(x, at);
  return out;
}

export function decodeChunk(b: Buffer): { header: ChunkHeader; timestamps: Float64Array; values: Float64Array } {
  const n = b.readUInt32BE(0);
  const header = JSON.parse(b.toString('utf8', 4, 4 + n)) as ChunkHeader;
  const C = header.channels.length;
  if (header.v !== 1 || b.length !== 4 + n + 8 * header.rows * (C + 1)) throw new Error(`row chunk of ${b.length} bytes does not hold ${header.rows} rows of ${C} channels`);
  const read = (from: number, count: number) => Float64Array.from({ length: count }, (_, i) => b.readDoubleLE(from + 8 * i));
  return { header, timestamps: read(4 + n, header.rows), values: read(4 + n + 8 * header.rows, header.rows * C) };
}

/** The newest run of consecutive chunks, joined: what a collector restores. */
export function joinChunks(chunks: Buffer[]): SavedRows | undefined {
  const decoded = chunks.map(decodeChunk).sort((a, b) => b.header.chunk - a.header.chunk);
  const run: typeof decoded = [];
  for (const d of decoded) {
    const prev = run[run.length - 1];
    if (prev && (d.header.chunk !== prev.header.chunk - 1 || d.header.perChunk !== prev.header.perChunk || d.header.channels.join('\u0000') !== prev.header.channels.join('\u0000'))) break;
    run.push(d);
  }
  if (run.length === 0) return undefined;
  run.reverse();
  const C = run[0].header.channels.length;
  const N = run.reduce((n, d) => n + d.header.rows, 0);
  const out: SavedRows = { channels: run[0].header.channels, values: new Float64Array(N * C), timestamps: new Float64Array(N), newest: {}, appended: 0 };
  let at = 0;
  for (const d of run) {
    out.timestamps.set(d.timestamps, at);
    out.values.set(d.values, at * C);
    at += d.header.rows;
    for (const [id, t] of Object.entries(d.header.newest)) out.newest[id] = Math.max(t, out.newest[id] ?? -Infinity);
    out.appended = d.header.first + d.header.rows;
  }
  return out;
}

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
