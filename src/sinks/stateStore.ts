/**
 * Detector state that survives restarts and rebalances: one record per entity in a compacted
 * topic (`diffwatch.state`), keyed by entity id, so the topic holds each entity's latest state
 * (the Kafka Streams changelog pattern, https://kafka.apache.org/documentation/#compaction).
 *
 * `put`/`remove` only mark an entity dirty; `flush` writes every dirty entity once (many puts
 * between flushes coalesce into one record) and resolves when the broker acknowledged (acks -1).
 * The service flushes just before it commits offsets, so the stored state is never behind them.
 * `load` reads the topic from the beginning to the end offsets captured when it starts.
 *
 * @example
 * const store = createStateStore({ kafka, log });
 * await store.ensureTopic();
 * const states = await store.load((id) => mine(id));
 * store.put('pump-7', { modelVersion: 'baseline-1', lastWindowEnd, ...detector.snapshot() });
 * await store.flush(); // then commit offsets
 */
import { randomUUID } from 'node:crypto';
import kafkajs, { type Admin, type Kafka, type KafkaMessage, type Message, type Producer } from 'kafkajs';
import { SinkError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { decodeStateRecord, encodeStateValue, StateStoreError, type EntityState, type EntityStateRecord } from './stateCodec.ts';

// kafkajs is CommonJS: Node's ESM loader only sees the exports it can detect statically.
const { ConfigResourceTypes } = kafkajs;

export const STATE_SINK = 'state';

/**
 * Config of a newly created state topic. Every flush rewrites the state of busy entities, so the
 * log is mostly dirty: clean at 10% dirty, and roll the active segment (which is never cleaned)
 * after 10 min or 16 MiB, so a restart reads little more than one record per entity.
 */
export const STATE_TOPIC_CONFIG: Readonly<Record<string, string>> = Object.freeze({
  'cleanup.policy': 'compact',
  'min.cleanable.dirty.ratio': '0.1',
  'segment.ms': String(10 * 60_000),
  'segment.bytes': String(16 * 1024 * 1024),
});

export interface StateStoreOptions {
  kafka: Kafka;
  /** Default `diffwatch.state`. */
  topic?: string;
  /** Partitions of a topic this store creates. Default 1; pass the input topic's count to co-partition. */
  partitions?: number;
  /** Replicas of a topic this store creates. Default min(3, brokers in the cluster). */
  replicationFactor?: number;
  /** Overrides of STATE_TOPIC_CONFIG for a topic this store creates. */
  topicConfig?: Record<string, string>;
  log: Logger;
  /** Wall clock, epoch ms (injected by tests). Default Date.now. */
  now?: () => number;
  /** Bytes (keys + values) per produce request; under the broker's default 1 MiB `max.message.bytes`. Default 900 000. */
  maxBatchBytes?: number;
  /** ms without progress before `load` gives up with STATE_LOAD_TIMEOUT. Default 30 000. */
  loadIdleTimeoutMs?: number;
  /** Prefix of the throwaway consumer group of `load` (ACLs often allow a prefix). Default `diffwatch-state-load`. */
  loadGroupPrefix?: string;
}

export interface LoadOptions {
  /** Read only these partitions of the state topic (e.g. the ones co-partitioned with an assignment). */
  partitions?: readonly number[];
}

export interface LoadStats {
  /** Messages read, tombstones and skipped records included. */
  messages: number;
  entities: number;
  tombstones: number;
  /** Records that could not be decoded (warned about, entity left without state). */
  skipped: number;
  partitions: number;
  ms: number;
}

export interface StateStoreStats {
  /** Entities put or removed since the last successful flush. */
  dirty: number;
  flushes: number;
  recordsWritten: number;
  tombstonesWritten: number;
  bytesWritten: number;
  lastFlushMs: number | null;
  lastLoad: LoadStats | null;
}

export interface StateStore {
  /** Create the topic compacted if missing, or warn (with the fix) when an existing one is not compacted. */
  ensureTopic(): Promise<void>;
  /** Latest state of every entity (passing `filter`), as of the end offsets when the call started. */
  load(filter?: (entityId: string) => boolean, opts?: LoadOptions): Promise<Map<string, EntityStateRecord>>;
  /** Keep `state` (serialised now) as the entity's latest; written by the next flush. */
  put(entityId: string, state: EntityState): void;
  /** Delete the entity's state (a tombstone at the next flush). */
  remove(entityId: string): void;
  /** Write all dirty entities; resolves when acknowledged by every in-sync replica. */
  flush(): Promise<void>;
  /** Flush what is dirty, then disconnect. */
  close(): Promise<void>;
  stats(): StateStoreStats;
}

interface Pending {
  value: Buffer | null;
  at: number;
}

function toSinkError(err: unknown, topic: string, batchSize: number): SinkError {
  if (err instanceof SinkError) return err;
  const e = err as { message?: string; retriable?: boolean; type?: string };
  const opts = { sink: STATE_SINK, batchSize, retriable: e.retriable === true, cause: err };
  const message = `writing detector state to ${topic} failed: ${e.message ?? String(err)}`;
  if (e.type === 'MESSAGE_TOO_LARGE' || e.type === 'RECORD_LIST_TOO_LARGE') return new SinkError('SINK_TOO_LARGE', message, opts);
  return new SinkError('SINK_UNAVAILABLE', message, opts);
}

/** Split messages into requests of at most `maxBytes` of keys and values (a bigger single message goes alone). */
export function chunkByBytes(messages: Message[], maxBytes: number): Message[][] {
  const chunks: Message[][] = [];
  let chunk: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = Buffer.byteLength(m.key as string) + (m.value ? (m.value as Buffer).length : 0);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export function createStateStore(opts: StateStoreOptions): StateStore {
  const { kafka, log } = opts;
  const topic = opts.topic ?? 'diffwatch.state';
  const now = opts.now ?? Date.now;
  const maxBatchBytes = opts.maxBatchBytes ?? 900_000;
  let dirty = new Map<string, Pending>();
  let producer: Producer | null = null;
  let flushing: Promise<void> = Promise.resolve();
  let closed = false;
  const counters = { flushes: 0, recordsWritten: 0, tombstonesWritten: 0, bytesWritten: 0, lastFlushMs: null as number | null, lastLoad: null as LoadStats | null };

  const assertOpen = (entityId?: string) => {
    if (closed) throw new StateStoreError('STATE_CLOSED', 'the state store is closed', { coords: { topic, entityId } });
  };

  async function flushNow(): Promise<void> {
    if (dirty.size === 0) return;
    const batch = dirty;
    dirty = new Map();
    const t0 = now();
    try {
      if (!producer) {
        // No auto-creation: a topic created by a metadata request would get the broker's
        // default `delete` policy and silently lose the state of quiet entities.
        const p = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
        await p.connect();
        producer = p;
      }
      const messages: Message[] = [...batch].map(([key, p]) => ({ key, value: p.value, timestamp: String(p.at) }));
      for (const chunk of chunkByBytes(messages, maxBatchBytes)) {
        await producer.sendBatch({ topicMessages: [{ topic, messages: chunk }], acks: -1 });
        for (const m of chunk) {
          batch.delete(m.key as string);
          if (m.value === null) counters.tombstonesWritten++;
          else counters.bytesWritten += (m.value as Buffer).length;
        }
        counters.recordsWritten += chunk.length;
      }
      counters.flushes++;
      counters.lastFlushMs = now() - t0;
    } catch (err) {
      // What was not acknowledged stays dirty, unless a newer put or remove replaced it meanwhile.
      for (const [k, p] of batch) if (!dirty.has(k)) dirty.set(k, p);
      const sinkErr = toSinkError(err, topic, batch.size);
      log.error('detector state not written', { topic, pending: batch.size, code: sinkErr.code, retriable: sinkErr.retriable, error: sinkErr.message });
      throw sinkErr;
    }
  }

  return {
    async ensureTopic() {
      await withAdmin(kafka, async (admin) => {
        if (!(await admin.listTopics()).includes(topic)) {
          const replicationFactor = opts.replicationFactor ?? Math.min(3, (await admin.describeCluster()).brokers.length);
          const configEntries = Object.entries({ ...STATE_TOPIC_CONFIG, ...opts.topicConfig }).map(([name, value]) => ({ name, value }));
          const created = await admin.createTopics({ topics: [{ topic, numPartitions: opts.partitions ?? 1, replicationFactor, configEntries }], waitForLeaders: true });
          // false: another instance created it between the listing and here; check it like any existing topic.
          if (created) return log.info('state topic created', { topic, partitions: opts.partitions ?? 1, replicationFactor, config: Object.fromEntries(configEntries.map((c) => [c.name, c.value])) });
        }
        await verifyCompacted(admin, topic, log);
      });
    },
    async load(filter = () => true, loadOpts = {}) {
      const { records, stats } = await loadStateTopic({ kafka, topic, log, filter, partitions: loadOpts.partitions, idleTimeoutMs: opts.loadIdleTimeoutMs ?? 30_000, groupId: `${opts.loadGroupPrefix ?? 'diffwatch-state-load'}-${randomUUID()}`, now });
      counters.lastLoad = stats;
      return records;
    },
    put(entityId, state) {
      assertOpen(entityId);
      const at = now();
      dirty.delete(entityId); // re-insert, so a flush writes entities in the order they last changed
      dirty.set(entityId, { value: encodeStateValue({ entityId, updatedAt: at, state }), at });
    },
    remove(entityId) {
      assertOpen(entityId);
      dirty.delete(entityId);
      dirty.set(entityId, { value: null, at: now() });
    },
    flush() {
      // One flush at a time: records of one entity from two flushes must reach the log in order.
      const run = flushing.then(flushNow);
      flushing = run.catch(() => undefined);
      return run;
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await (flushing = flushing.then(flushNow));
      } finally {
        const p = producer;
        producer = null;
        if (p) await p.disconnect();
      }
    },
    stats: () => ({ dirty: dirty.size, ...counters }),
  };
}

async function verifyCompacted(admin: Admin, topic: string, log: Logger): Promise<void> {
  const res = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }], includeSynonyms: false });
  const policy = res.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue ?? 'delete';
  const policies = policy.split(',').map((s) => s.trim());
  const fix = `kafka-configs.sh --bootstrap-server <brokers> --alter --entity-type topics --entity-name ${topic} --add-config cleanup.policy=compact`;
  if (!policies.includes('compact')) {
    log.warn('state topic is not compacted: old states pile up and are deleted by retention, losing the state of quiet entities', { topic, cleanupPolicy: policy, fix });
  } else if (policies.includes('delete')) {
    log.warn('state topic also has the delete policy: entities quiet for longer than retention.ms lose their state', { topic, cleanupPolicy: policy, fix });
  } else {
    log.debug('state topic is compacted', { topic });
  }
}

interface LoadArgs {
  kafka: Kafka;
  topic: string;
  log: Logger;
  filter: (entityId: string) => boolean;
  partitions?: readonly number[];
  idleTimeoutMs: number;
  groupId: string;
  now: () => number;
}

/** Fails `expired` when `progress` is not called for `ms`; `stage` says what was awaited. */
function idleWatchdog(ms: number, error: (stage: string) => Error) {
  let timer: NodeJS.Timeout | undefined;
  let fail!: (e: Error) => void;
  const w = {
    stage: 'connecting to the cluster',
    expired: new Promise<never>((_, reject) => (fail = reject)),
    progress(stage?: string) {
      if (stage) w.stage = stage;
      clearTimeout(timer);
      timer = setTimeout(() => fail(error(w.stage)), ms);
    },
    stop: () => clearTimeout(timer),
  };
  return w;
}
type Watchdog = ReturnType<typeof idleWatchdog>;

/** The latest record of an entity so far; `record` null after a tombstone or an unreadable record. */
interface Latest {
  record: EntityStateRecord | null;
  /** updatedAt, or the message timestamp of a tombstone. */
  at: number;
  partition: number;
}

/**
 * Last write wins. Within a partition the later offset wins. Across partitions (only after
 * someone added partitions to the topic, which moves keys) the later `updatedAt` wins.
 */
function latestTable(a: LoadArgs, stats: LoadStats) {
  const latest = new Map<string, Latest>();
  const decode = (partition: number, m: KafkaMessage): { entityId: string; record: EntityStateRecord | null; at: number } | null => {
    try {
      const d = decodeStateRecord(m.key, m.value, { topic: a.topic, partition, offset: m.offset });
      if (d.kind === 'put') return { entityId: d.record.entityId, record: d.record, at: d.record.updatedAt };
      stats.tombstones++;
      return { entityId: d.entityId, record: null, at: Number(m.timestamp) };
    } catch (e) {
      if (!(e instanceof StateStoreError)) throw e;
      stats.skipped++;
      a.log.warn('detector state record skipped', { ...e.coords, code: e.code, error: e.message });
      // The entity starts afresh rather than from an older state that compaction may or may not have kept.
      return m.key && m.key.length > 0 ? { entityId: m.key.toString('utf8'), record: null, at: Number(m.timestamp) } : null;
    }
  };
  return {
    apply(partition: number, m: KafkaMessage) {
      stats.messages++;
      const d = decode(partition, m);
      if (!d || !a.filter(d.entityId)) return;
      const prev = latest.get(d.entityId);
      if (prev && prev.partition !== partition && prev.at > d.at) return;
      latest.set(d.entityId, { record: d.record, at: d.at, partition });
    },
    records(): Map<string, EntityStateRecord> {
      const out = new Map<string, EntityStateRecord>();
      for (const [id, l] of latest) if (l.record) out.set(id, l.record);
      return out;
    },
  };
}

/** Exclusive end offset of every non-empty partition to read; empty when the topic is missing. */
async function endOffsets(a: LoadArgs, w: Watchdog, cleanup: (() => Promise<void>)[]): Promise<{ ends: Map<number, bigint>; all: number[] }> {
  const admin = a.kafka.admin();
  cleanup.push(() => admin.disconnect());
  await admin.connect();
  w.progress('listing topics');
  if (!(await admin.listTopics()).includes(a.topic)) {
    a.log.info('no state topic yet: every entity starts afresh', { topic: a.topic });
    return { ends: new Map(), all: [] };
  }
  w.progress('fetching end offsets');
  const offsets = await admin.fetchTopicOffsets(a.topic);
  await admin.disconnect();
  const wanted = a.partitions ? new Set(a.partitions) : null;
  const ends = new Map<number, bigint>();
  for (const o of offsets) if ((!wanted || wanted.has(o.partition)) && BigInt(o.low) < BigInt(o.high)) ends.set(o.partition, BigInt(o.high));
  return { ends, all: offsets.map((o) => o.partition) };
}

/**
 * Read every partition of `ends` from its first offset to its end, with a throwaway group
 * that commits nothing. kafkajs has no manual assignment; a fresh group with
 * `fromBeginning` starts each partition at its log start offset.
 */
async function readToEnds(a: LoadArgs, plan: { ends: Map<number, bigint>; all: number[] }, apply: (partition: number, m: KafkaMessage) => void, w: Watchdog, cleanup: (() => Promise<void>)[]): Promise<void> {
  const open = new Map(plan.ends);
  w.progress('joining a throwaway consumer group');
  const c = a.kafka.consumer({ groupId: a.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
  cleanup.push(() => c.disconnect());
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const reached = (partition: number, lastOffset: string) => {
    const end = open.get(partition);
    if (end === undefined || BigInt(lastOffset) + 1n < end) return;
    open.delete(partition);
    c.pause([{ topic: a.topic, partitions: [partition] }]);
    if (open.size === 0) done();
  };
  // Batches that held only filtered records (control records) reach no eachBatch, but this
  // event still reports how far the partition has been read.
  c.on(c.events.END_BATCH_PROCESS, (e) => reached(e.payload.partition, e.payload.lastOffset));
  await c.connect();
  await c.subscribe({ topic: a.topic, fromBeginning: true });
  await c.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      w.progress('reading records');
      const end = open.get(batch.partition);
      if (end === undefined) return;
      for (const m of batch.messages) {
        if (BigInt(m.offset) >= end) break; // written after load started: not part of this snapshot
        apply(batch.partition, m);
      }
      if (batch.messages.length > 0) reached(batch.partition, batch.messages[batch.messages.length - 1].offset);
    },
  });
  // Partitions not to read (filtered out, or empty) never need a fetch.
  const skip = plan.all.filter((p) => !plan.ends.has(p));
  if (skip.length > 0) c.pause([{ topic: a.topic, partitions: skip }]);
  await finished;
}

/** Read the state topic from its first offsets up to the end offsets captured at the start. */
export async function loadStateTopic(a: LoadArgs): Promise<{ records: Map<string, EntityStateRecord>; stats: LoadStats }> {
  const t0 = a.now();
  const stats: LoadStats = { messages: 0, entities: 0, tombstones: 0, skipped: 0, partitions: 0, ms: 0 };
  const table = latestTable(a, stats);
  const w = idleWatchdog(a.idleTimeoutMs, (stage) => new StateStoreError('STATE_LOAD_TIMEOUT', `loading detector state from ${a.topic}: no progress for ${a.idleTimeoutMs} ms while ${stage}; is the broker reachable?`, { retriable: true, coords: { topic: a.topic, stage } }));
  const cleanup: (() => Promise<void>)[] = [];
  const read = async () => {
    w.progress();
    const plan = await endOffsets(a, w, cleanup);
    stats.partitions = plan.ends.size;
    if (plan.ends.size > 0) await readToEnds(a, plan, table.apply, w, cleanup);
  };
  try {
    // On expiry, the finally below disconnects the clients that `read` is still waiting on.
    await Promise.race([read(), w.expired]);
  } catch (e) {
    if (e instanceof StateStoreError) throw e;
    throw new StateStoreError('STATE_UNAVAILABLE', `loading detector state from ${a.topic} failed while ${w.stage}: ${(e as Error).message}`, { retriable: true, coords: { topic: a.topic, stage: w.stage }, cause: e });
  } finally {
    w.stop();
    await Promise.allSettled(cleanup.map((f) => f()));
  }
  const records = table.records();
  Object.assign(stats, { entities: records.size, ms: a.now() - t0 });
  a.log.info('detector state loaded', { topic: a.topic, ...stats });
  return { records, stats };
}
