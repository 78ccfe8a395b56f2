/**
 * `fineTune.hold` on the real broker and database: a series produced all at once (a replay) runs
 * through the service, which trains a cold-start model and then fine-tunes it. With the hold,
 * scoring waits for the fine-tune, so the cold-start version scores the normal windows that
 * trigger it and at most the rest of that micro-batch: where the new version takes over does not
 * depend on how fast the machine trains, as on live telemetry.
 */
import { join } from 'node:path';
import { beforeAll, afterEach, describe, expect, it } from 'vitest';
import { trainedModelsConfig, trainedModelsRun } from './helpers.ts';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient } from '../helpers.ts';
import { NAB, exitWithin, influxClient, killAllDiffwatch, produceSeries, startDiffwatch } from '../service/runHelpers.ts';

const L = 32;
const COLD_WINDOWS = 300;
const FINE_TUNE_EVERY = 200;
const WARMUP = 50;
const BATCH = 16;
const ROWS = 1_100;
const ENTITY = 'hold-a';
const FILE = join(NAB, 'machine_temperature_system_failure.csv');

afterEach(killAllDiffwatch);

describe('fineTune.hold in the service', () => {
  const run0 = trainedModelsRun('ftHold');

  beforeAll(async () => {
    await createTopics(kafkaBrokers(), [run0.topic], 1);
  });

  it('a replay waits for the fine-tune: the cold-start version scores the windows that trigger it and at most one batch more', { timeout: 300_000 }, async () => {
    await produceSeries(kafkaClient(), { topic: run0.topic, entity: ENTITY, file: FILE, from: 0, to: ROWS });
    const config = trainedModelsConfig(run0, {
      windowLength: L,
      coldStart: { windows: COLD_WINDOWS, hold: true, training: { width: 16, depth: 2, epochs: 3, patience: 3, stride: 2, draws: 2, seed: 3 } },
      fineTune: { everyWindows: FINE_TUNE_EVERY, recentWindows: COLD_WINDOWS, epochs: 1, refitNormalization: true, hold: true },
      detect: { threshold: { warmupWindows: WARMUP, nInit: WARMUP } },
      microBatchSize: BATCH,
    });
    const run = startDiffwatch(['run', '--config', config, '--until-idle', '3'], { KAFKA_BROKERS: kafkaBrokers().join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'info' });
    const exit = await exitWithin(run, 240_000, 'diffwatch run --until-idle');
    expect(exit.code, exit.stderr.slice(-4000)).toBe(0);
    const rows = await influxClient(run0.database).query<{ state: string; model_version: string }>(`SELECT "state", "model_version" FROM "scores" WHERE "entity" = '${ENTITY}' ORDER BY time ASC`);
    expect(rows).toHaveLength(ROWS - L + 1);
    const versions = rows.map((r) => r.model_version).filter((v, i, all) => i === 0 || v !== all[i - 1]);
    expect(versions.length, `versions in order: ${versions.join(' → ')}`).toBeGreaterThanOrEqual(3);
    const coldVersion = versions[1];
    const normalUnderCold = rows.filter((r) => r.model_version === coldVersion && r.state === 'normal').length;
    // The fine-tune starts on the FINE_TUNE_EVERY-th normal window; the rest of its batch was already scored.
    expect(normalUnderCold).toBeGreaterThanOrEqual(FINE_TUNE_EVERY);
    expect(normalUnderCold).toBeLessThan(FINE_TUNE_EVERY + BATCH);
  });
});
