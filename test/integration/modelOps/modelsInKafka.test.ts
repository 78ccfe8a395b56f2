/**
 * Models and cold-start rows that follow the partition, against the real broker: a second
 * instance with an empty model directory (another machine) goes on with the model the first
 * trained, read from the models topic, and never uses a record whose hash does not match its
 * header; an instance stopped half-way through a cold start leaves its rows in the row topic,
 * and the next one trains after collecting only the remainder; and a second instance joining
 * the group half-way through two cold starts takes one partition over and resumes its entity.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readCsvSeries } from '../../../src/ingest/csvSeries.ts';
import type { ModelManifest } from '../../../src/model/checkpoint.ts';
import { HEADERS, packVersion, readModelRecord, sha256Hex } from '../../../src/modelOps/modelRecord.ts';
import { createModelStore } from '../../../src/modelOps/modelStore.ts';
import { trainedModelsConfig, trainedModelsRun, type TrainedModelsRun } from './helpers.ts';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient } from '../helpers.ts';
import { NAB, exitWithin, influxClient, killAllDiffwatch, produceSeries, startDiffwatch, type DiffwatchProcess } from '../service/runHelpers.ts';

const L = 32;
const COLD_WINDOWS = 200;
const COLD_ROWS = COLD_WINDOWS + L - 1;
const FILE = join(NAB, 'machine_temperature_system_failure.csv');
const TRAINING = { width: 16, depth: 2, epochs: 3, patience: 3, stride: 2, draws: 2, seed: 5 };

afterEach(killAllDiffwatch);

/** The same run (topics, group) seen from another machine: its own, empty model directory. */
function onAnotherMachine(run: TrainedModelsRun): TrainedModelsRun {
  const storeDir = join(mkdtempSync(join(tmpdir(), 'diffwatch-store-')), 'models');
  return { ...run, storeDir, store: createModelStore(storeDir) };
}

const configOf = (run: TrainedModelsRun) => trainedModelsConfig(run, { windowLength: L, coldStart: { windows: COLD_WINDOWS, training: TRAINING }, fineTune: {}, detect: { threshold: { warmupWindows: 50, nInit: 50 } } });
const coldStartLogs = (p: DiffwatchProcess) => p.logs().filter((r) => r.msg.startsWith('cold start'));

describe('models and collected rows in Kafka', () => {
  const env = { KAFKA_BROKERS: '', INFLUX_URL: '', DIFFWATCH_LOG_LEVEL: 'info' };
  const series = readCsvSeries(FILE);

  beforeAll(() => {
    Object.assign(env, { KAFKA_BROKERS: kafkaBrokers().join(','), INFLUX_URL: influxUrl() });
  });

  it('a second instance with an empty model directory goes on with the model from the topic, and rejects a tampered record', { timeout: 420_000 }, async () => {
    const run = trainedModelsRun('mik');
    const entity = 'mik-a';
    const key = `entity:${entity}`;
    await createTopics(kafkaBrokers(), [run.topic], 1);
    const produce = (from: number, to: number) => produceSeries(kafkaClient(), { topic: run.topic, entity, file: FILE, from, to });

    const first = startDiffwatch(['run', '--config', configOf(run)], env);
    await produce(0, COLD_ROWS);
    await first.waitFor(() => run.store.current(key) !== undefined, { what: 'the cold-start model in the first store', timeoutMs: 180_000, intervalMs: 250 });
    const trained = run.store.current(key)!;
    first.kill('SIGTERM');
    expect((await exitWithin(first, 60_000)).code, first.stderrTail()).toBe(0);
    expect(coldStartLogs(first).some((r) => r.msg === 'cold start trained')).toBe(true);

    // Another machine: nothing on its disk, the same topics and group.
    const second = onAnotherMachine(run);
    expect(second.store.current(key)).toBeUndefined();
    await produce(COLD_ROWS, COLD_ROWS + 40);
    const b = startDiffwatch(['run', '--config', configOf(second), '--until-idle', '3'], env);
    expect((await exitWithin(b, 120_000)).code, b.stderrTail()).toBe(0);
    expect(coldStartLogs(b)).toEqual([]);
    expect(b.logs().find((r) => r.msg === 'model live' && r.key === key)).toMatchObject({ version: trained.version, why: 'restored' });
    expect(second.store.current(key)?.version).toBe(trained.version);
    // The checkpoint in the cache is the one trained, byte for byte.
    expect(readFileSync(join(second.store.current(key)!.dir, 'weights.bin')).equals(readFileSync(join(trained.dir, 'weights.bin')))).toBe(true);
    const newest = await influxClient(run.database).query<{ model_version: string }>(`SELECT "model_version" FROM "scores" WHERE "entity" = '${entity}' ORDER BY time DESC LIMIT 40`);
    expect(newest.map((r) => r.model_version)).toEqual(newest.map(() => trained.version));

    // A record whose bytes changed after its hash was taken: one weight byte flipped.
    const value = await packVersion(trained.dir);
    const sha = sha256Hex(value);
    value[value.length - 1] ^= 0xff;
    const headers = { [HEADERS.version]: trained.version, [HEADERS.sha256]: sha, [HEADERS.writer]: 'tampered' };
    expect(() => readModelRecord(key, value, headers, { topic: run.modelTopic })).toThrow(expect.objectContaining({ code: 'MODEL_HASH_MISMATCH', name: 'ModelStoreError' }));
    const producer = kafkaClient().producer();
    await producer.connect();
    await producer.send({ topic: run.modelTopic, acks: -1, messages: [{ key, value, headers }] });
    await producer.disconnect();

    const third = onAnotherMachine(run);
    await produce(COLD_ROWS + 40, COLD_ROWS + 60);
    const c = startDiffwatch(['run', '--config', configOf(third), '--until-idle', '3'], env);
    expect((await exitWithin(c, 120_000)).code, c.stderrTail()).toBe(0);
    expect(c.logs().filter((r) => r.msg === 'model record rejected')).toEqual([expect.objectContaining({ code: 'MODEL_HASH_MISMATCH', key, topic: run.modelTopic })]);
    // The tampered bytes never reach the cache or a score: the last record that checked out stays live.
    expect(coldStartLogs(c)).toEqual([]);
    expect(c.logs().find((r) => r.msg === 'model live' && r.key === key)).toMatchObject({ version: trained.version });
    expect(readFileSync(join(third.store.current(key)!.dir, 'weights.bin')).equals(readFileSync(join(trained.dir, 'weights.bin')))).toBe(true);
  });

  it('an instance stopped half-way through a cold start leaves its rows; the next trains after collecting only the remainder', { timeout: 420_000 }, async () => {
    const run = trainedModelsRun('mir');
    const entity = 'mir-a';
    const key = `entity:${entity}`;
    const PART = 120;
    await createTopics(kafkaBrokers(), [run.topic], 1);
    const produce = (from: number, to: number) => produceSeries(kafkaClient(), { topic: run.topic, entity, file: FILE, from, to });
    const scored = async () => (await influxClient(run.database).query<{ count: number }>(`SELECT count("state") FROM "scores"`).catch(() => []))[0]?.count ?? 0;

    const first = startDiffwatch(['run', '--config', configOf(run)], env);
    await produce(0, PART);
    await first.waitFor(async () => (await scored()) === PART - L + 1, { what: `the first ${PART - L + 1} windows scored`, timeoutMs: 120_000, intervalMs: 250 });
    first.kill('SIGTERM');
    expect((await exitWithin(first, 60_000)).code, first.stderrTail()).toBe(0);
    expect(run.store.current(key)).toBeUndefined();

    // The rest of the cold start, and a little more: too few rows for a cold start from scratch.
    const second = onAnotherMachine(run);
    await produce(PART, COLD_ROWS + 20);
    const b = startDiffwatch(['run', '--config', configOf(second)], env);
    await b.waitFor(() => second.store.current(key) !== undefined, { what: 'the resumed cold start trained', timeoutMs: 180_000, intervalMs: 250 });
    b.kill('SIGTERM');
    expect((await exitWithin(b, 60_000)).code, b.stderrTail()).toBe(0);

    expect(b.logs().find((r) => r.msg === 'cold start: collecting windows' && r.key === key)).toMatchObject({ resumedRows: PART });
    expect(b.logs().find((r) => r.msg === 'cold start trained' && r.key === key)).toMatchObject({ rows: COLD_ROWS });
    const manifest = JSON.parse(readFileSync(join(second.store.current(key)!.dir, 'manifest.json'), 'utf8')) as ModelManifest;
    // Exactly the entity's first COLD_ROWS rows: the first instance's PART, then the rest, none twice or missing.
    expect(manifest.trainingData).toMatchObject({ rows: COLD_ROWS, firstTimestamp: series.timestamps[0], lastTimestamp: series.timestamps[COLD_ROWS - 1] });
  });

  it('an instance joining the group half-way through two cold starts takes a partition over and resumes its entity', { timeout: 420_000 }, async () => {
    const run = trainedModelsRun('mrb');
    const PART = 120;
    // One entity per partition of a two-partition topic (the producer's murmur2 partitioner).
    const partitionOf = (key: string) => Partitioners.DefaultPartitioner()({ topic: run.topic, partitionMetadata: [0, 1].map((partitionId) => ({ partitionId, leader: 0 })) as PartitionMetadata[], message: { key, value: null } });
    const ids = Array.from({ length: 20 }, (_, i) => `mrb-${i}`);
    const entities = [0, 1].map((p) => ids.find((id) => partitionOf(id) === p)!);
    await createTopics(kafkaBrokers(), [run.topic], 2);
    const produce = (from: number, to: number) => Promise.all(entities.map((entity) => produceSeries(kafkaClient(), { topic: run.topic, entity, file: FILE, from, to })));
    const scored = async () => (await influxClient(run.database).query<{ count: number }>(`SELECT count("state") FROM "scores"`).catch(() => []))[0]?.count ?? 0;

    const a = startDiffwatch(['run', '--config', configOf(run)], env);
    await produce(0, PART);
    await a.waitFor(async () => (await scored()) === 2 * (PART - L + 1), { what: 'both entities half-way through their cold starts', timeoutMs: 120_000, intervalMs: 250 });
    // The rows are written every 5 s: the rebalance finds them in the row topic.
    await sleep(6_000);
    const other = onAnotherMachine(run);
    const b = startDiffwatch(['run', '--config', configOf(other)], env);
    // The group has settled with one partition each.
    const owned = (p: DiffwatchProcess) => ((p.logs().filter((r) => r.msg === 'group joined').at(-1)?.assignment ?? {}) as Record<string, number[]>)[run.topic]?.length ?? 0;
    await b.waitFor(() => owned(a) === 1 && owned(b) === 1, { what: 'one partition for each instance', timeoutMs: 120_000 });
    await produce(PART, COLD_ROWS + 20);
    const keyOf = (e: string) => `entity:${e}`;
    await b.waitFor(() => entities.every((e) => run.store.current(keyOf(e)) !== undefined || other.store.current(keyOf(e)) !== undefined), { what: 'both cold starts trained', timeoutMs: 240_000, intervalMs: 250 });
    a.kill('SIGTERM');
    b.kill('SIGTERM');
    await Promise.all([exitWithin(a, 60_000), exitWithin(b, 60_000)]);

    const moved = b.logs().find((r) => r.msg === 'cold start: collecting windows')!;
    expect(moved).toMatchObject({ resumedRows: PART });
    // The entity that moved trained once, on the second instance, on its first COLD_ROWS rows; the other stayed.
    expect(b.logs().filter((r) => r.msg === 'cold start trained').map((r) => r.key)).toEqual([moved.key]);
    expect(a.logs().filter((r) => r.msg === 'cold start trained').map((r) => r.key)).toEqual(entities.map(keyOf).filter((k) => k !== moved.key));
    const manifest = JSON.parse(readFileSync(join(other.store.current(moved.key as string)!.dir, 'manifest.json'), 'utf8')) as ModelManifest;
    expect(manifest.trainingData).toMatchObject({ rows: COLD_ROWS, firstTimestamp: series.timestamps[0], lastTimestamp: series.timestamps[COLD_ROWS - 1] });
  });
});
