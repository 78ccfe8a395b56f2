/**
 * One shared model with per-entity normalization, in the real service: a model trained with
 * `diffwatch train` on one machine's series scores two machines, the second running the same
 * pattern ten times larger and 1,000 higher. Each collects its cold-start windows, gets its own
 * scaler in the model store, and is then scored by the shared network in its own units: the two
 * machines' scores agree window for window. The same second machine mapped to the model's own
 * scaler (normalization "model") scores orders of magnitude higher, which is what the entity
 * scaler is for.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient } from '../helpers.ts';
import { NAB, exitWithin, influxClient, killAllDiffwatch, produceSeries, runDiffwatch, startDiffwatch, windowEndTimes, writeConfig } from '../service/runHelpers.ts';
import { trainedModelsRun } from './helpers.ts';

const FILE = join(NAB, 'ec2_request_latency_system_failure.csv');
const L = 16;
const ROWS = 1_200;
const COLD_WINDOWS = 200;
const TINY_MODEL = ['--epochs', '3', '--window', String(L), '--width', '8', '--depth', '2', '--embed', '8', '--draws', '2', '--backend', 'wasm', '--seed', '2'];

afterEach(killAllDiffwatch);

/** The file's first `rows` rows with every value mapped by `f`, as a CSV in a fresh folder. */
function mappedCsv(rows: number, f: (v: number) => number): string {
  const [head, ...lines] = readFileSync(FILE, 'utf8').trim().split('\n');
  const out = [head, ...lines.slice(0, rows).map((l) => {
    const [t, v] = l.split(',');
    return `${t},${f(Number(v))}`;
  })];
  const file = join(mkdtempSync(join(tmpdir(), 'diffwatch-scaled-')), 'scaled.csv');
  writeFileSync(file, out.join('\n') + '\n');
  return file;
}

describe('a shared model with per-entity normalization', () => {
  const env = { KAFKA_BROKERS: '', INFLUX_URL: '', DIFFWATCH_LOG_LEVEL: 'info' };
  const run = trainedModelsRun('norm');
  let modelDir: string;
  let baseVersion: string;

  beforeAll(async () => {
    Object.assign(env, { KAFKA_BROKERS: kafkaBrokers().join(','), INFLUX_URL: influxUrl() });
    await createTopics(kafkaBrokers(), [run.topic], 1);
    modelDir = join(mkdtempSync(join(tmpdir(), 'diffwatch-shared-')), 'model');
    const train = await runDiffwatch(['train', '--file', mappedCsv(600, (v) => v), '--out', modelDir, '--json', ...TINY_MODEL], { ...env, DIFFWATCH_LOG_LEVEL: 'warn' });
    expect(train.code, train.stderr.slice(-2000)).toBe(0);
    baseVersion = (JSON.parse(train.stdout.trim().split('\n').pop()!) as { version: string }).version;
  });

  it('scales each entity by its own statistics, so a larger, higher copy scores as the original', { timeout: 300_000 }, async () => {
    const scaled = mappedCsv(ROWS, (v) => v * 10 + 1_000);
    await produceSeries(kafkaClient(), { topic: run.topic, entity: 'norm-a', file: mappedCsv(ROWS, (v) => v), to: ROWS });
    await produceSeries(kafkaClient(), { topic: run.topic, entity: 'norm-b', file: scaled, to: ROWS });
    await produceSeries(kafkaClient(), { topic: run.topic, entity: 'raw-b', file: scaled, to: ROWS });
    const config = writeConfig({
      kafka: { topics: [run.topic], groupId: run.groupId, commitIntervalMs: 200 },
      stream: { windowLength: L, hop: 1 },
      scorer: {
        kind: 'diffusion',
        diffusion: {
          modelDir: null,
          modelStore: run.storeDir,
          modelTopic: run.modelTopic,
          rowTopic: run.rowTopic,
          workers: 1,
          backend: 'wasm',
          models: [
            { match: '^norm-', use: 'dir', dir: modelDir, normalization: 'entity' },
            { match: '^raw-', use: 'dir', dir: modelDir, normalization: 'model' },
          ],
          coldStart: { windows: COLD_WINDOWS, training: {}, maxConcurrent: 1, hold: true },
        },
      },
      detect: { stateTopic: run.stateTopic },
      sinks: { anomaliesTopic: run.anomalies, influx: { database: run.database } },
    });
    const service = startDiffwatch(['run', '--config', config, '--until-idle', '3'], env);
    const exit = await exitWithin(service, 240_000);
    expect(exit.code, exit.stderr.slice(-4000)).toBe(0);

    const influx = influxClient(run.database);
    const rowsOf = async (entity: string) =>
      influx.query<{ time: Date; score: number | null; model_version: string }>(`SELECT "score", "state", "model_version" FROM "scores" WHERE "entity" = '${entity}' ORDER BY time ASC`);
    const [a, b, raw] = await Promise.all([rowsOf('norm-a'), rowsOf('norm-b'), rowsOf('raw-b')]);
    // The file repeats a few timestamps: one window per distinct end time.
    const windows = new Set(windowEndTimes(FILE, ROWS, L)).size;
    expect([a.length, b.length, raw.length]).toEqual([windows, windows, windows]);

    // Cold start: the first COLD_WINDOWS windows of each normalised entity have no scaler yet.
    for (const rows of [a, b]) {
      expect(rows.slice(0, COLD_WINDOWS).every((r) => r.model_version === 'none' && r.score === null)).toBe(true);
      const versions = new Set(rows.slice(COLD_WINDOWS).map((r) => r.model_version));
      expect(versions.size).toBe(1);
      expect([...versions][0]).toMatch(new RegExp(`^${baseVersion}\\+[0-9a-f]{8}$`));
    }
    expect(a[COLD_WINDOWS].model_version).not.toBe(b[COLD_WINDOWS].model_version);
    // Each entity's scaler is in the store, under its own key.
    expect(run.store.current('norm:norm-a')).toBeDefined();
    expect(run.store.current('norm:norm-b')).toBeDefined();
    // The shared model without entity normalization scores from the first window, with the base version.
    expect(new Set(raw.map((r) => r.model_version))).toEqual(new Set([baseVersion]));

    // The larger, higher copy scores as the original, window for window …
    let worst = 0;
    for (let i = COLD_WINDOWS; i < windows; i++) {
      const x = a[i].score!;
      const y = b[i].score!;
      worst = Math.max(worst, Math.abs(x - y) / Math.max(Math.abs(x), 1e-3));
    }
    expect(worst).toBeLessThan(1e-2);
    // … while the model's own scaler makes every one of its windows look far out.
    const median = (xs: number[]) => xs.sort((p, q) => p - q)[xs.length >> 1];
    const mA = median(a.slice(COLD_WINDOWS).map((r) => r.score!));
    const mRaw = median(raw.slice(COLD_WINDOWS).map((r) => r.score!));
    console.log(JSON.stringify({ baseVersion, worstRelativeDifference: worst, medianScoreEntityScaler: mA, medianScoreModelScaler: mRaw }));
    expect(mRaw).toBeGreaterThan(100 * mA);
  });
});
