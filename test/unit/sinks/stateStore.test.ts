/**
 * The detector-state store and its record format, against an in-memory kafkajs stand-in:
 * coalescing, tombstones, failed flushes, envelope validation, and `load` over partitions with
 * offset gaps, records past the captured end, unreadable records and a silent broker.
 */
import type { Kafka, Message, ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { SinkError } from '../../../src/errors.ts';
import { decodeStateRecord, encodeStateValue, StateStoreError, type EntityState } from '../../../src/sinks/stateCodec.ts';
import { chunkByBytes, createStateStore, STATE_TOPIC_CONFIG } from '../../../src/sinks/stateStore.ts';
import { recordingLogger } from './helpers/manual.ts';

const TOPIC = 'diffwatch.state';
const src = { topic: TOPIC, partition: 0, offset: '7' };
const state = (lastWindowEnd: number, extra: Record<string, unknown> = {}): EntityState => ({ modelVersion: 'baseline-1', lastWindowEnd, ...extra });

interface LogRecord {
  offset: number;
  key: string;
  value: Buffer | null;
  timestamp: number;
}

/** One partition of the fake topic: its log (offsets may have gaps) and the offsets the admin reports. */
interface FakePartition {
  log: LogRecord[];
  low: number;
  /** End offset the admin reports; records at or past it were "written after load started". */
  high: number;
}

interface FakeOptions {
  partitions?: Record<number, FakePartition>;
  topics?: string[];
  cleanupPolicy?: string;
  brokers?: number;
  /** Messages per fetched batch. */
  batchSize?: number;
  /** The admin never connects (a broker that does not answer). */
  hang?: boolean;
  /** listTopics fails with this. */
  listError?: Error;
  sendBatch?: (b: ProducerBatch) => Promise<void>;
}

/** A kafkajs stand-in: a producer that records batches, an admin, and a consumer that replays `partitions`. */
function fakeKafka(o: FakeOptions = {}) {
  const sent: ProducerBatch[] = [];
  const created: unknown[] = [];
  const consumers: string[] = [];
  const disconnected: string[] = [];
  const parts = o.partitions ?? {};
  const producer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    sendBatch: async (b: ProducerBatch) => {
      await o.sendBatch?.(b);
      sent.push(b);
      return [];
    },
  };
  const admin = {
    connect: () => (o.hang ? new Promise<void>(() => undefined) : Promise.resolve()),
    disconnect: async () => void disconnected.push('admin'),
    listTopics: async () => {
      if (o.listError) throw o.listError;
      return o.topics ?? [TOPIC];
    },
    describeCluster: async () => ({ brokers: Array.from({ length: o.brokers ?? 1 }, (_, i) => ({ nodeId: i })) }),
    createTopics: async (req: { topics: unknown[] }) => (created.push(...req.topics), true),
    describeConfigs: async () => ({ resources: [{ configEntries: [{ configName: 'cleanup.policy', configValue: o.cleanupPolicy ?? 'compact' }] }] }),
    fetchTopicOffsets: async () => Object.entries(parts).map(([p, v]) => ({ partition: Number(p), low: String(v.low), high: String(v.high), offset: String(v.high) })),
  };
  const consumer = ({ groupId }: { groupId: string }) => {
    consumers.push(groupId);
    const paused = new Set<number>();
    const listeners: ((e: { payload: { partition: number; lastOffset: string } }) => void)[] = [];
    let running = true;
    const pos = new Map(Object.entries(parts).map(([p, v]) => [Number(p), v.low]));
    const loop = async (eachBatch: (p: { batch: { partition: number; messages: unknown[] } }) => Promise<void>) => {
      for (let moved = true; running && moved; ) {
        moved = false;
        for (const [p, part] of Object.entries(parts).map(([k, v]) => [Number(k), v] as const)) {
          if (paused.has(p) || !running) continue;
          const at = pos.get(p)!;
          const batch = part.log.filter((r) => r.offset >= at).slice(0, o.batchSize ?? 3);
          // A log that ends in offsets no message stands for (control records): the batch is filtered empty.
          const tail = part.log.length === 0 || at > part.log[part.log.length - 1].offset ? part.high - 1 : null;
          if (batch.length === 0 && (tail === null || at > tail)) continue;
          moved = true;
          const messages = batch.map((r) => ({ offset: String(r.offset), key: Buffer.from(r.key), value: r.value, timestamp: String(r.timestamp), headers: {} }));
          if (messages.length > 0) await eachBatch({ batch: { partition: p, messages } });
          const last = batch.length > 0 ? batch[batch.length - 1].offset : tail!;
          pos.set(p, last + 1);
          listeners.forEach((l) => l({ payload: { partition: p, lastOffset: String(last) } }));
          await new Promise((r) => setImmediate(r));
        }
      }
    };
    return {
      events: { END_BATCH_PROCESS: 'consumer.end_batch_process' },
      on: (_: string, l: (typeof listeners)[number]) => void listeners.push(l),
      connect: async () => undefined,
      subscribe: async () => undefined,
      run: async ({ eachBatch }: { eachBatch: Parameters<typeof loop>[0] }) => void setImmediate(() => void loop(eachBatch)),
      pause: (ps: { partitions: number[] }[]) => ps.forEach((x) => x.partitions.forEach((p) => paused.add(p))),
      disconnect: async () => {
        running = false;
        disconnected.push('consumer');
      },
    };
  };
  const kafka = { producer: () => producer, admin: () => admin, consumer } as unknown as Kafka;
  return { kafka, sent, created, consumers, disconnected };
}

const rec = (offset: number, key: string, st: EntityState | null, updatedAt = 1000 + offset): LogRecord => ({
  offset,
  key,
  value: st === null ? null : encodeStateValue({ entityId: key, updatedAt, state: st }),
  timestamp: updatedAt,
});
const raw = (offset: number, key: string, json: unknown): LogRecord => ({ offset, key, value: Buffer.from(JSON.stringify(json)), timestamp: 1000 + offset });
const values = (b: ProducerBatch) => b.topicMessages![0].messages.map((m: Message) => [String(m.key), m.value === null ? null : JSON.parse(String(m.value)).state]);

describe('stateCodec', () => {
  it('round-trips the versioned envelope and reads a null value as a tombstone', () => {
    const value = encodeStateValue({ entityId: 'pump-7', updatedAt: 42, state: state(5, { lifecycle: { version: 1, keys: [] } }) });
    expect(JSON.parse(value.toString())).toEqual({ v: 1, entityId: 'pump-7', updatedAt: 42, state: state(5, { lifecycle: { version: 1, keys: [] } }) });
    expect(decodeStateRecord(Buffer.from('pump-7'), value, src)).toEqual({ kind: 'put', record: { entityId: 'pump-7', updatedAt: 42, state: state(5, { lifecycle: { version: 1, keys: [] } }) } });
    expect(decodeStateRecord(Buffer.from('pump-7'), null, src)).toEqual({ kind: 'tombstone', entityId: 'pump-7' });
  });

  it('rejects an unknown envelope version with a typed error carrying the coordinates', () => {
    const value = Buffer.from(JSON.stringify({ v: 2, entityId: 'pump-7', updatedAt: 1, state: state(1) }));
    let err: unknown;
    try {
      decodeStateRecord(Buffer.from('pump-7'), value, src);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateStoreError);
    expect(err).toMatchObject({ code: 'STATE_VERSION_UNKNOWN', retriable: false, coords: { topic: TOPIC, partition: 0, offset: '7', entityId: 'pump-7', field: 'v' } });
  });

  it.each([
    ['not JSON', Buffer.from('{oops'), 'value'],
    ['an envelope of another entity', Buffer.from(JSON.stringify({ v: 1, entityId: 'fan-2', updatedAt: 1, state: state(1) })), 'entityId'],
    ['a state without modelVersion', Buffer.from(JSON.stringify({ v: 1, entityId: 'pump-7', updatedAt: 1, state: { lastWindowEnd: 1 } })), 'state.modelVersion'],
    ['a state without lastWindowEnd', Buffer.from(JSON.stringify({ v: 1, entityId: 'pump-7', updatedAt: 1, state: { modelVersion: 'm' } })), 'state.lastWindowEnd'],
    ['a missing updatedAt', Buffer.from(JSON.stringify({ v: 1, entityId: 'pump-7', state: state(1) })), 'updatedAt'],
  ])('rejects %s as STATE_RECORD_INVALID naming the field', (_, value, field) => {
    expect(() => decodeStateRecord(Buffer.from('pump-7'), value, src)).toThrow(expect.objectContaining({ code: 'STATE_RECORD_INVALID', coords: expect.objectContaining({ field, entityId: 'pump-7' }) }));
  });

  it('rejects a record without a key', () => {
    expect(() => decodeStateRecord(null, Buffer.from('{}'), src)).toThrow(expect.objectContaining({ code: 'STATE_RECORD_INVALID', coords: expect.objectContaining({ field: 'key' }) }));
  });
});

describe('createStateStore: put, remove, flush', () => {
  it('coalesces many puts of one entity into one record with the latest state, sent with acks -1', async () => {
    let t = 100;
    const k = fakeKafka();
    const store = createStateStore({ kafka: k.kafka, log: recordingLogger(), now: () => t++ });
    store.put('pump-7', state(1));
    store.put('fan-2', state(10));
    store.put('pump-7', state(2));
    store.put('pump-7', state(3));
    expect(store.stats().dirty).toBe(2);
    await store.flush();
    expect(k.sent).toHaveLength(1);
    expect(k.sent[0]).toMatchObject({ acks: -1 });
    expect(k.sent[0].topicMessages![0].topic).toBe(TOPIC);
    expect(values(k.sent[0]).sort()).toEqual([['fan-2', state(10)], ['pump-7', state(3)]]);
    // updatedAt is the time of the last put, also the message timestamp.
    const pump = k.sent[0].topicMessages![0].messages.find((m) => m.key === 'pump-7')!;
    expect(JSON.parse(String(pump.value)).updatedAt).toBe(103);
    expect(pump.timestamp).toBe('103');
    expect(store.stats()).toMatchObject({ dirty: 0, flushes: 1, recordsWritten: 2 });
    await store.flush();
    expect(k.sent).toHaveLength(1); // nothing dirty, nothing sent
  });

  it('captures the state at put time, so later mutation of the object is not written', async () => {
    const k = fakeKafka();
    const store = createStateStore({ kafka: k.kafka, log: recordingLogger() });
    const s = state(1);
    store.put('pump-7', s);
    s.lastWindowEnd = 99;
    await store.flush();
    expect(values(k.sent[0])).toEqual([['pump-7', state(1)]]);
  });

  it('writes a tombstone for remove, and the last of put/remove between flushes wins', async () => {
    const k = fakeKafka();
    const store = createStateStore({ kafka: k.kafka, log: recordingLogger() });
    store.put('pump-7', state(1));
    store.remove('pump-7');
    store.remove('fan-2');
    store.put('fan-2', state(4));
    await store.flush();
    expect(values(k.sent[0]).sort()).toEqual([['fan-2', state(4)], ['pump-7', null]]);
    expect(store.stats()).toMatchObject({ tombstonesWritten: 1, recordsWritten: 2 });
  });

  it('keeps entities dirty when a flush fails, unless a newer put replaced them meanwhile', async () => {
    let fail = true;
    let store!: ReturnType<typeof createStateStore>;
    const k = fakeKafka({
      sendBatch: async () => {
        if (!fail) return;
        store.put('pump-7', state(5)); // arrives while the failing request is in flight
        throw Object.assign(new Error('Connection error'), { retriable: true });
      },
    });
    store = createStateStore({ kafka: k.kafka, log: recordingLogger() });
    store.put('pump-7', state(1));
    store.put('fan-2', state(2));
    const err = await store.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SinkError);
    expect(err).toMatchObject({ code: 'SINK_UNAVAILABLE', retriable: true, coords: { sink: 'state', batchSize: 2 } });
    expect(store.stats().dirty).toBe(2);
    fail = false;
    await store.flush();
    expect(values(k.sent[0]).sort()).toEqual([['fan-2', state(2)], ['pump-7', state(5)]]);
  });

  it('runs flushes one at a time, so one entity’s records reach the log in order', async () => {
    const gates: (() => void)[] = [];
    const k = fakeKafka({ sendBatch: () => new Promise<void>((r) => gates.push(r)) });
    const store = createStateStore({ kafka: k.kafka, log: recordingLogger() });
    store.put('pump-7', state(1));
    const first = store.flush();
    await new Promise((r) => setImmediate(r));
    expect(gates).toHaveLength(1);
    store.put('pump-7', state(2)); // while the first request is in flight
    const second = store.flush();
    await new Promise((r) => setImmediate(r));
    expect(gates).toHaveLength(1); // the second waits for the first to be acknowledged
    gates[0]();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(gates).toHaveLength(2);
    gates[1]();
    await second;
    expect(k.sent.map((b) => values(b)[0][1])).toEqual([state(1), state(2)]);
  });

  it('splits a large flush into requests under maxBatchBytes', async () => {
    const k = fakeKafka();
    const store = createStateStore({ kafka: k.kafka, log: recordingLogger(), maxBatchBytes: 300 });
    for (let i = 0; i < 10; i++) store.put(`e-${i}`, state(i));
    await store.flush();
    expect(k.sent.length).toBeGreaterThan(1);
    for (const b of k.sent) {
      const bytes = b.topicMessages![0].messages.reduce((n, m) => n + String(m.key).length + (m.value as Buffer).length, 0);
      expect(bytes).toBeLessThanOrEqual(300);
    }
    expect(k.sent.flatMap((b) => values(b).map(([key]) => key)).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `e-${i}`).sort());
  });

  it('chunkByBytes sends a message bigger than the limit on its own', () => {
    const m = (n: number): Message => ({ key: 'k', value: Buffer.alloc(n) });
    expect(chunkByBytes([m(10), m(500), m(10), m(10)], 100).map((c) => c.length)).toEqual([1, 1, 2]);
  });

  it('rejects a state without the fields the service reads, one that is not JSON, and puts after close', async () => {
    const store = createStateStore({ kafka: fakeKafka().kafka, log: recordingLogger() });
    expect(() => store.put('pump-7', { lastWindowEnd: 1 } as unknown as EntityState)).toThrow(expect.objectContaining({ code: 'STATE_RECORD_INVALID', coords: expect.objectContaining({ entityId: 'pump-7', field: 'state.modelVersion' }) }));
    expect(() => store.put('pump-7', state(1, { n: 1n }))).toThrow(expect.objectContaining({ code: 'STATE_RECORD_INVALID', coords: expect.objectContaining({ field: 'state' }) }));
    await store.close();
    expect(() => store.put('pump-7', state(1))).toThrow(expect.objectContaining({ code: 'STATE_CLOSED' }));
  });

  it('close flushes what is still dirty', async () => {
    const k = fakeKafka();
    const store = createStateStore({ kafka: k.kafka, log: recordingLogger() });
    store.put('pump-7', state(1));
    await store.close();
    expect(values(k.sent[0])).toEqual([['pump-7', state(1)]]);
  });
});

describe('createStateStore: ensureTopic', () => {
  it('creates a missing topic compacted, with min(3, brokers) replicas', async () => {
    const k = fakeKafka({ topics: [], brokers: 5 });
    await createStateStore({ kafka: k.kafka, log: recordingLogger(), partitions: 4 }).ensureTopic();
    expect(k.created).toHaveLength(1);
    const t = k.created[0] as { topic: string; numPartitions: number; replicationFactor: number; configEntries: { name: string; value: string }[] };
    expect(t).toMatchObject({ topic: TOPIC, numPartitions: 4, replicationFactor: 3 });
    expect(Object.fromEntries(t.configEntries.map((c) => [c.name, c.value]))).toEqual({ ...STATE_TOPIC_CONFIG });
    expect(STATE_TOPIC_CONFIG['cleanup.policy']).toBe('compact');
  });

  it.each([
    ['delete', /not compacted/],
    ['compact,delete', /also has the delete policy/],
  ])('warns with the fix when an existing topic has cleanup.policy=%s', async (policy, msg) => {
    const log = recordingLogger();
    const k = fakeKafka({ cleanupPolicy: policy });
    await createStateStore({ kafka: k.kafka, log }).ensureTopic();
    expect(k.created).toHaveLength(0);
    const warn = log.records.find((r) => r.level === 'warn');
    expect(warn?.msg).toMatch(msg);
    expect(warn?.fields).toMatchObject({ topic: TOPIC, cleanupPolicy: policy, fix: expect.stringContaining('cleanup.policy=compact') });
  });

  it('accepts an existing compacted topic without warning', async () => {
    const log = recordingLogger();
    await createStateStore({ kafka: fakeKafka().kafka, log }).ensureTopic();
    expect(log.records.filter((r) => r.level === 'warn')).toEqual([]);
  });
});

describe('createStateStore: load', () => {
  it('keeps the last write per key, applies tombstones, handles offset gaps and empty partitions, and stops at the captured end', async () => {
    const k = fakeKafka({
      batchSize: 4, // the second batch straddles the end: offsets 8, 9 | 10, 11
      partitions: {
        // Compacted: offsets 0-2 and 5 are gone.
        0: { low: 3, high: 10, log: [rec(3, 'a', state(1)), rec(4, 'b', state(1)), rec(6, 'a', state(2)), rec(7, 'b', null), rec(8, 'c', state(1)), rec(9, 'a', state(3)), rec(10, 'a', state(99)), rec(11, 'd', state(1))] },
        1: { low: 0, high: 0, log: [] },
        2: { low: 0, high: 2, log: [rec(0, 'e', state(7)), rec(1, 'f', state(8))] },
      },
    });
    const store = createStateStore({ kafka: k.kafka, log: recordingLogger() });
    const got = await store.load();
    expect(Object.fromEntries([...got].map(([id, r]) => [id, r.state.lastWindowEnd]))).toEqual({ a: 3, c: 1, e: 7, f: 8 });
    expect(got.get('a')).toEqual({ entityId: 'a', updatedAt: 1009, state: state(3) });
    expect(store.stats().lastLoad).toMatchObject({ messages: 8, entities: 4, tombstones: 1, skipped: 0, partitions: 2 });
  });

  it('finishes a partition whose last offsets hold no message (filtered control records)', async () => {
    const k = fakeKafka({ partitions: { 0: { low: 0, high: 5, log: [rec(0, 'a', state(1)), rec(2, 'a', state(2))] } } });
    const got = await createStateStore({ kafka: k.kafka, log: recordingLogger(), loadIdleTimeoutMs: 2000 }).load();
    expect(got.get('a')?.state).toEqual(state(2));
  });

  it('skips an unreadable record with a warning and leaves that entity without state', async () => {
    const log = recordingLogger();
    const k = fakeKafka({ partitions: { 0: { low: 0, high: 4, log: [rec(0, 'a', state(1)), raw(1, 'a', { v: 2, entityId: 'a' }), rec(2, 'b', state(1)), raw(3, 'c', { v: 1 })] } } });
    const store = createStateStore({ kafka: k.kafka, log });
    const got = await store.load();
    expect([...got.keys()]).toEqual(['b']);
    expect(store.stats().lastLoad).toMatchObject({ skipped: 2, entities: 1 });
    const warns = log.records.filter((r) => r.level === 'warn');
    expect(warns.map((w) => w.fields.code)).toEqual(['STATE_VERSION_UNKNOWN', 'STATE_RECORD_INVALID']);
    expect(warns[0].fields).toMatchObject({ topic: TOPIC, partition: 0, offset: '1', entityId: 'a', field: 'v' });
  });

  it('lets a later record of the same key in the same partition replace an unreadable one', async () => {
    const k = fakeKafka({ partitions: { 0: { low: 0, high: 2, log: [raw(0, 'a', { v: 2 }), rec(1, 'a', state(4))] } } });
    expect((await createStateStore({ kafka: k.kafka, log: recordingLogger() }).load()).get('a')?.state).toEqual(state(4));
  });

  it('across partitions (after a partition increase), the newer updatedAt wins', async () => {
    const k = fakeKafka({ partitions: { 0: { low: 0, high: 1, log: [rec(0, 'a', state(9), 5000)] }, 1: { low: 0, high: 1, log: [rec(0, 'a', state(1), 100)] } } });
    expect((await createStateStore({ kafka: k.kafka, log: recordingLogger() }).load()).get('a')?.state).toEqual(state(9));
  });

  it('applies the entity filter and reads only the requested partitions', async () => {
    const k = fakeKafka({ partitions: { 0: { low: 0, high: 2, log: [rec(0, 'a1', state(1)), rec(1, 'b1', state(1))] }, 1: { low: 0, high: 1, log: [rec(0, 'a2', state(1))] } } });
    const store = createStateStore({ kafka: k.kafka, log: recordingLogger() });
    expect([...(await store.load((id) => id.startsWith('a'))).keys()].sort()).toEqual(['a1', 'a2']);
    expect([...(await store.load(undefined, { partitions: [1] })).keys()]).toEqual(['a2']);
  });

  it('returns an empty map without joining a group when the topic is missing or empty', async () => {
    const missing = fakeKafka({ topics: [] });
    expect((await createStateStore({ kafka: missing.kafka, log: recordingLogger() }).load()).size).toBe(0);
    const empty = fakeKafka({ partitions: { 0: { low: 4, high: 4, log: [] } } });
    expect((await createStateStore({ kafka: empty.kafka, log: recordingLogger() }).load()).size).toBe(0);
    expect([...missing.consumers, ...empty.consumers]).toEqual([]);
  });

  it('uses a fresh throwaway group per load', async () => {
    const k = fakeKafka({ partitions: { 0: { low: 0, high: 1, log: [rec(0, 'a', state(1))] } } });
    const store = createStateStore({ kafka: k.kafka, log: recordingLogger(), loadGroupPrefix: 'dw-load' });
    await store.load();
    await store.load();
    expect(k.consumers).toHaveLength(2);
    expect(new Set(k.consumers).size).toBe(2);
    expect(k.consumers.every((g) => g.startsWith('dw-load-'))).toBe(true);
  });

  it('fails with a retriable STATE_LOAD_TIMEOUT when the broker does not answer', async () => {
    const k = fakeKafka({ hang: true });
    const err = await createStateStore({ kafka: k.kafka, log: recordingLogger(), loadIdleTimeoutMs: 30 }).load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateStoreError);
    expect(err).toMatchObject({ code: 'STATE_LOAD_TIMEOUT', retriable: true, coords: { topic: TOPIC, stage: 'connecting to the cluster' } });
    expect(k.disconnected).toContain('admin'); // the client it was waiting on is not left behind
  });

  it('wraps a broker failure in a retriable STATE_UNAVAILABLE naming the stage', async () => {
    const k = fakeKafka({ listError: Object.assign(new Error('Connection error: ECONNREFUSED'), { retriable: true }) });
    const err = await createStateStore({ kafka: k.kafka, log: recordingLogger() }).load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateStoreError);
    expect(err).toMatchObject({ code: 'STATE_UNAVAILABLE', retriable: true, coords: { topic: TOPIC, stage: 'listing topics' } });
    expect((err as Error).message).toContain('ECONNREFUSED');
  });

  it('disconnects its consumer once every partition is read', async () => {
    const k = fakeKafka({ partitions: { 0: { low: 0, high: 1, log: [rec(0, 'a', state(1))] } } });
    await createStateStore({ kafka: k.kafka, log: recordingLogger() }).load();
    expect(k.disconnected).toContain('consumer');
  });
});
