/**
 * A kill in the middle of a cold start: entities with no model yet collect their first
 * `coldStart.windows` windows, persisted to the rows topic as they grow. The instance is killed
 * with SIGKILL part-way through the collection and another one, with an empty model cache, takes
 * the group over. It must go on with the collection, not start it again: every entity's first
 * model is trained once, and its first window scored by a model is window `coldStart.windows`,
 * where an uninterrupted run puts it (`coldStart.hold`: the windows after the collected ones wait
 * for the model, so the index does not depend on how fast it trains).
 *
 * Had the new instance started the collection again from what it re-reads (the committed offset
 * stays L-1 readings behind the newest window), the first model window would come about 50
 * windows later.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { joinChunks } from '../../src/modelOps/rowChunks.ts';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, waitUntil } from '../integration/helpers.ts';
import { killAllDiffwatch, startDiffwatch, type DiffwatchProcess } from '../integration/service/runHelpers.ts';
import { MINUTE, T0, compareWindows, entityId, expectedWindows, influxOf, readAll, report, sample, windowFigures, windowKey, type Input } from './faultHelpers.ts';
import { saveLogs, stopCleanly, untilCommittedToEnd } from './instances.ts';
import { fleetConfig, fleetNames, produceFleetReadings, storedDecisions } from './modelFleet.ts';

const INPUT: Input = { entities: 6, readings: 200, channels: ['cpu', 'mem', 'net'], window: 32 };
/** Windows collected before an entity's model is trained: rows 0 to COLD + L - 2. */
const COLD = 100;
/** Readings before the kill: 49 windows of each entity collected, about half of COLD. */
const BEFORE_KILL = 80;
const COLD_START = { windows: COLD, hold: true, maxConcurrent: 1, training: { width: 16, depth: 2, epochs: 4, patience: 4, stride: 2, draws: 2, seed: 1 } };

const started: DiffwatchProcess[] = [];

afterEach(async () => {
  saveLogs('killDuringColdStart', started);
  started.length = 0;
  await killAllDiffwatch();
});

/** Windows in `scores`, counted by their state: a window of a cold start's warm-up has no score. */
async function untilWindows(database: string, n: number, what: string, timeoutMs: number): Promise<void> {
  const count = async () => (await influxOf(database).query<{ c: number }>('SELECT count("state") AS c FROM "scores"'))[0]?.c ?? 0;
  await waitUntil(async () => (await count().catch(() => 0)) >= n, { timeoutMs, intervalMs: 250, what: `${n} windows in InfluxDB: ${what}` });
}

/** Rows the rows topic holds for each `<model key>#cold` (the latest chunk of every slot, joined). */
async function savedColdRows(kafka: ReturnType<typeof kafkaClient>, topic: string): Promise<Map<string, number>> {
  const latest = new Map<string, Buffer | null>();
  for (const m of await readAll(kafka, topic)) latest.set(m.key!.toString('utf8'), m.value);
  const byOwner = new Map<string, Buffer[]>();
  for (const [k, v] of latest) {
    const owner = k.slice(0, k.lastIndexOf('#'));
    if (v !== null && owner.endsWith('#cold')) byOwner.set(owner, [...(byOwner.get(owner) ?? []), v]);
  }
  return new Map([...byOwner].map(([owner, chunks]) => [owner, joinChunks(chunks)?.timestamps.length ?? 0]));
}

describe('an instance killed with SIGKILL during its entities\' cold start', () => {
  it('the next instance resumes the collection from the rows topic: one training per entity, its first model window where an uninterrupted run has it', { timeout: 300_000 }, async () => {
    const brokers = kafkaBrokers();
    const kafka = kafkaClient();
    const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'info' };
    const n = fleetNames('faults-coldkill');
    await createTopics(brokers, [n.topic], 2);
    await createTopics(brokers, [n.anomalies], 1);
    const config = () => fleetConfig(n, INPUT, { warmupWindows: 20, coldStart: COLD_START });
    const start = () => {
      const p = startDiffwatch(['run', '--config', config()], env);
      started.push(p);
      return p;
    };

    // 1. The first instance collects about half of every entity's cold start, persists it, and dies.
    const first = start();
    let produced = await produceFleetReadings(kafka, n.topic, INPUT, { from: 0, to: BEFORE_KILL }, []);
    const beforeWindows = INPUT.entities * (BEFORE_KILL - INPUT.window + 1);
    await untilWindows(n.database, beforeWindows, `the first ${BEFORE_KILL} readings of every entity`, 120_000);
    let saved = new Map<string, number>();
    await waitUntil(
      async () => {
        saved = await savedColdRows(kafka, n.rowTopic);
        return saved.size === INPUT.entities && [...saved.values()].every((rows) => rows === BEFORE_KILL);
      },
      { timeoutMs: 60_000, intervalMs: 500, what: `${BEFORE_KILL} collected rows of every entity in the rows topic` },
    ).catch((e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(Object.fromEntries(saved))}`);
    });
    first.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal, killed.stderr.slice(-3_000)).toBe('SIGKILL');
    const killedAt = Date.now();

    // 2. Another instance, with its own empty model cache, takes over; the rest of the input arrives.
    const second = start();
    produced += await produceFleetReadings(kafka, n.topic, INPUT, { from: BEFORE_KILL, to: INPUT.readings }, []);
    const expected = expectedWindows(INPUT);
    await untilWindows(n.database, expected.size, 'every window after the kill', 180_000);
    const recoveryMs = Date.now() - killedAt;
    await untilCommittedToEnd(kafka, n, 60_000);
    await stopCleanly(second, 'the instance that took over');

    // 3. Windows exactly those of the data; each entity's first model window at COLD; one model per entity.
    const { byWindow } = await storedDecisions(n.database);
    const diff = compareWindows(expected, new Set(byWindow.keys()));
    const firstModelWindow = new Map<string, number>();
    const versions = new Map<string, Set<string>>();
    for (let e = 0; e < INPUT.entities; e++) {
      const id = entityId(e);
      versions.set(id, new Set());
      for (let k = 0; k + INPUT.window <= INPUT.readings; k++) {
        const d = byWindow.get(windowKey(id, T0 + (k + INPUT.window - 1) * MINUTE));
        if (!d || d.modelVersion === 'none') continue;
        if (!firstModelWindow.has(id)) firstModelWindow.set(id, k);
        versions.get(id)!.add(d.modelVersion);
      }
    }
    const records = await readAll(kafka, n.modelTopic);
    const trainings = new Map<string, number>();
    for (const m of records) if (m.value !== null) trainings.set(m.key!.toString('utf8'), (trainings.get(m.key!.toString('utf8')) ?? 0) + 1);
    const resumed = second.logs().filter((r) => r.msg === 'cold start: collecting windows').map((r) => r.resumedRows as number);

    report({
      scenario: 'kill -9 during cold start',
      inputMessages: produced,
      faults: `SIGKILL after ${BEFORE_KILL} of ${COLD + INPUT.window - 1} cold-start rows of every entity, another instance takes over`,
      ...windowFigures(diff),
      dlq: (await readAll(kafka, `${n.topic}.dlq`)).length,
      recoveryMs,
      firstModelWindow: Object.fromEntries(firstModelWindow),
      trainings: Object.fromEntries(trainings),
      resumedRows: resumed,
    });
    expect(diff.lost, `windows lost: ${sample(diff.lost)}`).toEqual([]);
    expect(diff.extra, `windows the data does not have: ${sample(diff.extra)}`).toEqual([]);
    expect(resumed, 'rows each entity\'s collection resumed from').toEqual(Array(INPUT.entities).fill(BEFORE_KILL));
    for (let e = 0; e < INPUT.entities; e++) {
      const id = entityId(e);
      expect(firstModelWindow.get(id), `${id}: the first window scored by a model`).toBe(COLD);
      expect(versions.get(id)!.size, `${id}: model versions that scored it`).toBe(1);
      expect(trainings.get(`entity:${id}`), `${id}: models trained`).toBe(1);
    }
  });
});
