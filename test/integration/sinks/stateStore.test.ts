/**
 * The detector-state store against the stack's Kafka: a compacted topic created by the store,
 * put/flush/load round trips across fresh store instances (a restart), tombstones, a load that
 * stops at the end offsets it captured while a writer keeps appending, 5,000 entities, and a
 * load over a topic that the broker has really compacted.
 */
import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import type { EntityState } from '../../../src/sinks/stateCodec.ts';
import { createStateStore, type StateStore, type StateStoreOptions } from '../../../src/sinks/stateStore.ts';
import { recordingLogger } from '../../unit/sinks/helpers/manual.ts';
import { createTopics, kafkaBrokers, kafkaClient, uniqueName, waitUntil } from '../helpers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

function store(topic: string, opts: Partial<StateStoreOptions> = {}): StateStore & { log: ReturnType<typeof recordingLogger> } {
  const log = recordingLogger();
  const s = createStateStore({ kafka: kafkaClient(), topic, log, ...opts });
  cleanups.push(() => s.close());
  return Object.assign(s, { log });
}

const state = (lastWindowEnd: number, extra: Record<string, unknown> = {}): EntityState => ({ modelVersion: 'baseline-1', lastWindowEnd, ...extra });
const ends = (m: Map<string, { state: EntityState }>) => Object.fromEntries([...m].map(([id, r]) => [id, r.state.lastWindowEnd]));

async function topicConfig(topic: string): Promise<Record<string, string>> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const res = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
    return Object.fromEntries(res.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
  } finally {
    await admin.disconnect();
  }
}

describe('createStateStore against Kafka', () => {
  it('creates the topic compacted and round-trips states across restarts: last write wins, tombstones delete', async () => {
    const topic = uniqueName('state');
    const first = store(topic, { partitions: 3 });
    await first.ensureTopic();
    const cfg = await topicConfig(topic);
    expect(cfg['cleanup.policy']).toBe('compact');
    expect(cfg['min.cleanable.dirty.ratio']).toBe('0.1');
    expect(cfg['segment.ms']).toBe('600000');
    await first.ensureTopic(); // idempotent: the existing topic is verified, not recreated
    expect(first.log.records.filter((r) => r.level === 'warn')).toEqual([]);

    first.put('pump-7', state(1, { lifecycle: { version: 1, keys: [] } }));
    first.put('fan-2', state(1));
    first.put('valve-3', state(1));
    await first.flush();
    first.put('pump-7', state(2));
    first.put('pump-7', state(3, { lifecycle: { version: 1, keys: [{ entityId: 'pump-7', kind: 'score' }] } }));
    first.remove('fan-2');
    await first.flush();
    first.put('valve-3', state(4));
    await first.flush();
    expect(first.stats()).toMatchObject({ flushes: 3, recordsWritten: 6, tombstonesWritten: 1 }); // 3 + 2 (pump-7 coalesced) + 1
    await first.close();

    // A restart: a new client, a new store, nothing in memory.
    const restarted = await store(topic).load();
    expect(ends(restarted)).toEqual({ 'pump-7': 3, 'valve-3': 4 });
    expect(restarted.get('pump-7')?.state).toEqual(state(3, { lifecycle: { version: 1, keys: [{ entityId: 'pump-7', kind: 'score' }] } }));

    const second = store(topic);
    second.put('fan-2', state(9)); // a removed entity comes back
    await second.flush();
    expect(ends(await store(topic).load())).toEqual({ 'pump-7': 3, 'valve-3': 4, 'fan-2': 9 });
    expect(ends(await store(topic).load((id) => id !== 'pump-7'))).toEqual({ 'valve-3': 4, 'fan-2': 9 });
  });

  it('warns with the fix when the topic exists without compaction', async () => {
    const topic = uniqueName('state-plain');
    await createTopics(kafkaBrokers(), [topic], 1);
    const s = store(topic);
    await s.ensureTopic();
    const warn = s.log.records.find((r) => r.level === 'warn');
    expect(warn?.fields).toMatchObject({ topic, cleanupPolicy: 'delete', fix: expect.stringContaining(`--entity-name ${topic} --add-config cleanup.policy=compact`) });
  });

  it('loads 5,000 entities and stops at the end offsets captured at the start while a writer keeps appending', async () => {
    const topic = uniqueName('state-many');
    const s = store(topic, { partitions: 3 });
    await s.ensureTopic();
    const n = 5000;
    for (let round = 1; round <= 2; round++) {
      for (let i = 0; i < n; i++) s.put(`m-${i}`, state(round * 1_000_000 + i, { calibration: { count: i, mean: i / 7, m2: i * 3.5 } }));
      await s.flush();
    }

    // Appends new entities until the load is over: a load that chased the tail would never end.
    const writer = store(topic);
    let loading = true;
    let late = 0;
    const writing = (async () => {
      while (loading) {
        for (let j = 0; j < 50; j++) writer.put(`late-${late++}`, state(1));
        await writer.flush();
      }
    })();
    const reader = store(topic);
    const t0 = Date.now();
    const loaded = await reader.load().finally(() => (loading = false));
    const ms = Date.now() - t0;
    await writing;

    const base = [...loaded.values()].filter((r) => r.entityId.startsWith('m-'));
    expect(base).toHaveLength(n);
    for (const r of base) expect(r.state.lastWindowEnd).toBe(2_000_000 + Number(r.entityId.slice(2)));
    const lateLoaded = loaded.size - n;
    expect(lateLoaded).toBeLessThan(late);
    const stats = reader.stats().lastLoad!;
    expect(stats).toMatchObject({ entities: loaded.size, skipped: 0, tombstones: 0, partitions: 3 });
    expect(stats.messages).toBe(2 * n + lateLoaded);
    process.stderr.write(`state store: loaded ${stats.entities} entities from ${stats.messages} records in ${ms} ms (writer appended ${late} more meanwhile)\n`);
  });

  it('loads a topic the broker has compacted (offset gaps) and reads only the requested partitions', async () => {
    const topic = uniqueName('state-compacted');
    // Segments roll on the first append after 100 ms, so the cleaner gets something to compact.
    const s = store(topic, { partitions: 2, topicConfig: { 'segment.ms': '100', 'min.cleanable.dirty.ratio': '0.01', 'min.compaction.lag.ms': '0', 'delete.retention.ms': '100' } });
    await s.ensureTopic();
    for (let round = 1; round <= 20; round++) {
      for (let i = 0; i < 20; i++) s.put(`c-${i}`, state(round));
      await s.flush();
    }
    s.remove('c-0');
    await s.flush();
    const written = s.stats().recordsWritten;

    let compacted = false;
    let tick = 0;
    await waitUntil(
      async () => {
        s.put('tick', state(++tick)); // appends roll segments; the cleaner runs every 15 s by default
        await s.flush();
        const r = store(topic);
        const got = await r.load();
        expect(got.get('c-1')?.state.lastWindowEnd).toBe(20);
        expect(got.has('c-0')).toBe(false);
        compacted = r.stats().lastLoad!.messages < written / 2;
        return compacted;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: `compaction of ${topic}` },
    );
    const all = await store(topic).load();
    expect(ends(all)).toEqual({ ...Object.fromEntries(Array.from({ length: 19 }, (_, i) => [`c-${i + 1}`, 20])), tick });

    const p0 = await store(topic).load(undefined, { partitions: [0] });
    const p1 = await store(topic).load(undefined, { partitions: [1] });
    expect(p0.size).toBeGreaterThan(0);
    expect(p1.size).toBeGreaterThan(0);
    expect(new Set([...p0.keys(), ...p1.keys()])).toEqual(new Set(all.keys()));
  });
});
