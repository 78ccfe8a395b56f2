/**
 * Models the service makes itself, against the real broker and database: two entities arrive
 * with no model; each collects its cold-start windows (warm-up, version `none`), trains in the
 * background, and is then scored by its own model; after enough normal windows it is fine-tuned
 * and the new version is swapped in. InfluxDB must hold every window exactly once, each tagged
 * with the version that scored it, the versions following each other without interleaving (an
 * atomic swap); the store must hold the lineage; and a restarted service must go on with the
 * live version, with no second cold start.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readCsvSeries } from '../../../src/ingest/csvSeries.ts';
import type { ModelManifest } from '../../../src/model/checkpoint.ts';
import { trainedModelsConfig, trainedModelsRun } from './helpers.ts';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient } from '../helpers.ts';
import { NAB, exitWithin, influxClient, killAllDiffwatch, produceSeries, startDiffwatch, windowEndTimes } from '../service/runHelpers.ts';

const L = 32;
const COLD_WINDOWS = 400;
const COLD_ROWS = COLD_WINDOWS + L - 1;
const FINE_TUNE_EVERY = 300;
/** Detector warm-up after the first model: windows judged normal start after these. */
const WARMUP = 100;
const ENTITIES = [
  { id: 'cold-a', file: join(NAB, 'machine_temperature_system_failure.csv') },
  { id: 'cold-b', file: join(NAB, 'ec2_request_latency_system_failure.csv') },
];
/** Rows produced per entity in each phase: [0, 431) cold start, then to 1,100 (fine-tune), then to 1,400. */
const PHASES = [COLD_ROWS, 1_100, 1_400];

afterEach(killAllDiffwatch);

interface ScoreRow {
  time: number;
  state: string;
  model_version: string;
}

describe('cold start and fine-tuning in the service', () => {
  const env = { KAFKA_BROKERS: '', INFLUX_URL: '', DIFFWATCH_LOG_LEVEL: 'info' };
  const run0 = trainedModelsRun('cold');
  const { topic, store, database } = run0;
  const config = () =>
    trainedModelsConfig(run0, {
      windowLength: L,
      coldStart: { windows: COLD_WINDOWS, training: { width: 16, depth: 2, epochs: 4, patience: 4, stride: 2, draws: 2, seed: 3 } },
      fineTune: { everyWindows: FINE_TUNE_EVERY, recentWindows: COLD_WINDOWS, epochs: 1, refitNormalization: true },
      detect: { threshold: { warmupWindows: WARMUP, nInit: WARMUP } },
    });
  const produce = (from: number, to: number) => Promise.all(ENTITIES.map((e) => produceSeries(kafkaClient(), { topic, entity: e.id, file: e.file, from, to })));
  const influx = () => influxClient(database);
  const rowsOf = async (entity: string) =>
    (await influx().query<{ time: Date; state: string; model_version: string }>(`SELECT "state", "model_version" FROM "scores" WHERE "entity" = '${entity}' ORDER BY time ASC`)).map((r): ScoreRow => ({ time: r.time.getTime(), state: r.state, model_version: r.model_version }));
  const manifestOf = (entity: string) => {
    const live = store.current(`entity:${entity}`);
    return live && (JSON.parse(readFileSync(join(live.dir, 'manifest.json'), 'utf8')) as ModelManifest & { parent?: string });
  };

  beforeAll(async () => {
    Object.assign(env, { KAFKA_BROKERS: kafkaBrokers().join(','), INFLUX_URL: influxUrl() });
    await createTopics(kafkaBrokers(), [topic], 1);
  });

  it('trains each new entity in the background, fine-tunes it, swaps versions atomically and restarts without a second cold start', { timeout: 480_000 }, async () => {
    // No --until-idle here: the gaps while the test waits for training are not the end of the input.
    const run = startDiffwatch(['run', '--config', config()], env);
    await produce(0, PHASES[0]);
    await run.waitFor(() => ENTITIES.every((e) => manifestOf(e.id) !== undefined), { what: 'both cold-start models in the store', timeoutMs: 180_000, intervalMs: 250 });
    const first = new Map(ENTITIES.map((e) => [e.id, manifestOf(e.id)!]));
    for (const e of ENTITIES) {
      const m = first.get(e.id)!;
      // Trained on exactly the entity's first COLD_WINDOWS windows.
      expect(m.trainingData.rows).toBe(COLD_ROWS);
      expect(m.trainingData.firstTimestamp).toBe(readCsvSeries(e.file).timestamps[0]);
      expect(m.windowLength).toBe(L);
    }
    expect(first.get('cold-a')!.version).not.toBe(first.get('cold-b')!.version);

    await produce(PHASES[0], PHASES[1]);
    await run.waitFor(() => ENTITIES.every((e) => manifestOf(e.id)!.version !== first.get(e.id)!.version), { what: 'both models fine-tuned', timeoutMs: 180_000, intervalMs: 250 });
    const tuned = new Map(ENTITIES.map((e) => [e.id, manifestOf(e.id)!]));
    for (const e of ENTITIES) expect(tuned.get(e.id)!.parent).toBe(first.get(e.id)!.version);

    await produce(PHASES[1], PHASES[2]);
    const total = ENTITIES.reduce((n, e) => n + new Set(windowEndTimes(e.file, PHASES[2], L)).size, 0);
    await run.waitFor(async () => (await influx().query<{ count: number }>(`SELECT count("state") FROM "scores"`).catch(() => []))[0]?.count === total, { what: `all ${total} windows in InfluxDB`, timeoutMs: 180_000, intervalMs: 500 });
    run.kill('SIGTERM');
    const exit = await exitWithin(run, 60_000);
    expect(exit.code, exit.stderr.slice(-4000)).toBe(0);

    for (const e of ENTITIES) {
      const rows = await rowsOf(e.id);
      const ends = windowEndTimes(e.file, PHASES[2], L);
      // Every window once: none lost or doubled by a swap.
      expect(rows.map((r) => r.time)).toEqual([...new Set(ends)].sort((a, b) => a - b));
      // Cold start: the first COLD_WINDOWS - 1 windows have no model (the last one's training starts with it) …
      const versions = rows.map((r) => r.model_version);
      expect(versions.slice(0, COLD_WINDOWS).every((v) => v === 'none')).toBe(true);
      expect(rows.slice(0, COLD_WINDOWS).every((r) => r.state === 'warmup')).toBe(true);
      // … then each version scores one contiguous run of windows, in lineage order, with no interleaving.
      const runs = versions.filter((v, i) => i === 0 || v !== versions[i - 1]);
      const lineage = ['none', first.get(e.id)!.version, tuned.get(e.id)!.version];
      expect(runs.slice(0, 3)).toEqual(lineage);
      // Every version that scored is in the store.
      for (const v of new Set(versions)) if (v !== 'none') expect(existsSync(join(store.dirOf(`entity:${e.id}`), v, 'manifest.json')), v).toBe(true);
      // The windows of the last phase were scored by a fine-tuned version, not the cold-start one.
      const lastPhase = rows.filter((r) => r.time > ends[PHASES[1] - L]);
      expect(lastPhase.length).toBeGreaterThan(0);
      expect(lastPhase.some((r) => r.model_version === 'none' || r.model_version === first.get(e.id)!.version)).toBe(false);
    }
    // No alert names "no model".
    const alerts = await influx().query<{ model_version: string }>(`SELECT "model_version", "state" FROM "alerts"`);
    expect(alerts.filter((a) => a.model_version === 'none')).toHaveLength(0);

    // A restart goes on with the live versions: no cold start, the next windows are scored at once.
    const live = new Map(ENTITIES.map((e) => [e.id, manifestOf(e.id)!.version]));
    await produce(PHASES[2], PHASES[2] + 50);
    const again = startDiffwatch(['run', '--config', config(), '--until-idle', '3'], env);
    const exit2 = await exitWithin(again, 120_000);
    expect(exit2.code, exit2.stderr.slice(-4000)).toBe(0);
    expect(again.logs().filter((r) => r.msg.startsWith('cold start'))).toEqual([]);
    for (const e of ENTITIES) {
      const rows = await rowsOf(e.id);
      const newest = rows.slice(-50);
      expect(newest.map((r) => r.model_version)).toEqual(newest.map(() => live.get(e.id)));
      expect(newest.every((r) => r.state !== 'warmup')).toBe(true);
    }
  });
});
