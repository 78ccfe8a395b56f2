/**
 * A level shift in the real service: an entity with its own model (cold start) runs normally,
 * then its level jumps by 12 noise amplitudes and stays there. The model alerts on the jump; after
 * `fineTune.adoptAfterWindows` anomalous windows the service takes the new level as the new
 * normal (fine-tunes with a refitted scaler and swaps the version in), the incident resolves, and
 * the new level raises no further alert: the detector settles instead of alerting for days. The
 * adopted version is judged by a threshold learned from its own scores, so a moderate anomaly on
 * the new level still alerts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_ALERT_KIND } from '../../../src/detect/detector.ts';
import { trainedModelsConfig, trainedModelsRun } from './helpers.ts';
import { mulberry32 } from '../../../src/random.ts';
import { distinctEvents, readAnomalies } from '../detect/helpers.ts';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient } from '../helpers.ts';
import { exitWithin, influxClient, killAllDiffwatch, produceSeries, startDiffwatch } from '../service/runHelpers.ts';

const L = 32;
const COLD_WINDOWS = 400;
const COLD_ROWS = COLD_WINDOWS + L - 1;
/**
 * One cycle of the series (240 rows) and more: the adopted model learns from these windows alone.
 * With 200 it saw under one cycle and scored the phases it had not seen at 2-3× its validation
 * windows (docs/tuning-log.md, "Variant 26 in the service").
 */
const ADOPT_AFTER = 300;
const SHIFT_ROW = 1_500;
const ROWS = 3_500;
/** Rows produced before the test waits for the adoption: the jump plus the adoption horizon and some. */
const ADOPTED_BY = SHIFT_ROW + L + ADOPT_AFTER + 100;
const STEP_MS = 60_000;
/**
 * A moderate anomaly on the new level, long after the adoption: 10 rows 7 higher (2.8 noise
 * amplitudes). The adopted model scores it at most 161, 1.55× its largest score on the new level
 * before it; under the level inherited from the cold-start version (199.75, learned on raw
 * scores 8× larger) it raised nothing.
 */
const BUMP_ROW = 3_000;
const BUMP_ROWS = 10;
const BUMP = 7;
const T0 = Date.UTC(2026, 0, 1);
const ENTITY = 'shifty';

/** A daily-ish sine with noise around 50; from SHIFT_ROW on, 30 higher (12 noise amplitudes); the bump at BUMP_ROW. */
function writeSeries(): string {
  const rng = mulberry32(7);
  const lines = ['timestamp,value'];
  for (let r = 0; r < ROWS; r++) {
    const bump = r >= BUMP_ROW && r < BUMP_ROW + BUMP_ROWS ? BUMP : 0;
    const v = 50 + 5 * Math.sin((2 * Math.PI * r) / 240) + 2.5 * (rng() - 0.5) * 2 + (r >= SHIFT_ROW ? 30 : 0) + bump;
    lines.push(`${new Date(T0 + r * STEP_MS).toISOString()},${v.toFixed(4)}`);
  }
  const file = join(mkdtempSync(join(tmpdir(), 'diffwatch-shift-')), 'shift.csv');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

afterEach(killAllDiffwatch);

describe('a level shift becomes the new normal', () => {
  const env = { KAFKA_BROKERS: '', INFLUX_URL: '', DIFFWATCH_LOG_LEVEL: 'info' };
  const run0 = trainedModelsRun('shift');
  const { topic, store } = run0;
  let file: string;

  beforeAll(async () => {
    Object.assign(env, { KAFKA_BROKERS: kafkaBrokers().join(','), INFLUX_URL: influxUrl() });
    await createTopics(kafkaBrokers(), [topic], 1);
    file = writeSeries();
  });

  it('alerts on the jump, adopts the new level after adoptAfterWindows, resolves, stays quiet, and still alerts on a moderate anomaly', { timeout: 480_000 }, async () => {
    const config = trainedModelsConfig(run0, {
      windowLength: L,
      coldStart: { windows: COLD_WINDOWS, training: { width: 16, depth: 2, epochs: 6, patience: 6, stride: 2, draws: 4, seed: 5 } },
      fineTune: { everyWindows: 0, recentWindows: COLD_WINDOWS, epochs: 6, refitNormalization: true, adoptAfterWindows: ADOPT_AFTER },
      detect: { threshold: { warmupWindows: 300, nInit: 300 }, rules: { flatline: { enabled: false } } },
    });
    const run = startDiffwatch(['run', '--config', config], env);
    await produceSeries(kafkaClient(), { topic, entity: ENTITY, file, to: COLD_ROWS });
    await run.waitFor(() => store.current(`entity:${ENTITY}`) !== undefined, { what: 'the cold-start model', timeoutMs: 180_000, intervalMs: 250 });
    const coldVersion = store.current(`entity:${ENTITY}`)!.version;
    // Telemetry arrives far slower than it is scored here: let the adoption's fine-tune finish
    // before the rest of the series, as it would in real time (a minute per reading).
    await produceSeries(kafkaClient(), { topic, entity: ENTITY, file, from: COLD_ROWS, to: ADOPTED_BY });
    await run.waitFor(() => store.current(`entity:${ENTITY}`)!.version !== coldVersion, { what: 'the adopted model', timeoutMs: 180_000, intervalMs: 250 });
    await produceSeries(kafkaClient(), { topic, entity: ENTITY, file, from: ADOPTED_BY, to: ROWS });
    const influx = influxClient(run0.database);
    const windows = ROWS - L + 1;
    await run.waitFor(async () => (await influx.query<{ count: number }>(`SELECT count("state") FROM "scores"`).catch(() => []))[0]?.count === windows, { what: `all ${windows} windows in InfluxDB`, timeoutMs: 240_000, intervalMs: 500 });
    run.kill('SIGTERM');
    const exit = await exitWithin(run, 60_000);
    expect(exit.code, exit.stderr.slice(-4000)).toBe(0);

    const shiftAt = T0 + SHIFT_ROW * STEP_MS;
    const rowTime = (r: number) => T0 + r * STEP_MS;
    const events = distinctEvents(await readAnomalies(kafkaClient(), run0.anomalies)).filter((e) => e.kind === MODEL_ALERT_KIND);
    const opens = events.filter((e) => e.state === 'open');
    // Quiet before the shift (the normal sine is not an incident) …
    expect(opens.filter((e) => e.startTime < shiftAt).map((e) => new Date(e.startTime).toISOString())).toEqual([]);
    // … an alert within a window length of the jump …
    const jump = opens.find((e) => e.startTime >= shiftAt);
    expect(jump, 'an alert on the jump').toBeDefined();
    expect(jump!.startTime).toBeLessThanOrEqual(rowTime(SHIFT_ROW + L));
    // … the new level adopted: a new version, fine-tuned from the cold-start one …
    const adopted = run.logs().find((r) => r.msg === 'new normal adopted');
    expect(adopted, 'the new normal adopted').toBeDefined();
    expect(adopted!.parent).toBe(coldVersion);
    // … the incident resolved, and no model alert opens afterwards at the new level but the bump's,
    // judged by the adopted version.
    const resolved = events.find((e) => e.state === 'resolved' && e.eventId !== jump!.eventId && e.startTime === jump!.startTime);
    expect(resolved, 'the jump incident resolved').toBeDefined();
    const later = opens.filter((e) => e.startTime > resolved!.endTime);
    expect(later.map((e) => new Date(e.startTime).toISOString())).toEqual([new Date(rowTime(BUMP_ROW)).toISOString()]);
    expect(later[0].modelVersion).toBe(adopted!.version);
    const settledWindows = Math.round((resolved!.endTime - shiftAt) / STEP_MS);
    console.log(JSON.stringify({ coldVersion, adoptedVersion: adopted!.version, alertAt: new Date(jump!.startTime).toISOString(), resolvedAfterWindows: settledWindows, quietWindowsUntilBump: Math.round((rowTime(BUMP_ROW) - resolved!.endTime) / STEP_MS), bump: { score: later[0].score, threshold: later[0].threshold } }));
    // Settled once the adopted version scores: the horizon plus the rows produced before the test waited for it.
    expect(settledWindows).toBeLessThanOrEqual(ADOPTED_BY - SHIFT_ROW + L);
    // Scores name the adopted version after the swap.
    const tail = await influx.query<{ model_version: string }>(`SELECT "state", "model_version" FROM "scores" ORDER BY time DESC LIMIT 100`);
    expect(new Set(tail.map((r) => r.model_version))).toEqual(new Set([adopted!.version]));
  });
});
