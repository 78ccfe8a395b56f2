/**
 * Detection on a labelled series: NAB's machine_temperature_system_failure (22,695 readings,
 * 5 minutes apart, 4 label windows) goes through `diffwatch run` with the diffusion scorer,
 * trained on the series' probationary part only. From the anomalies topic (real codec) and
 * InfluxDB it checks that no alert fires in warm-up, that the February 2014 system failure is
 * found inside its window, which other windows are found, and how many false incidents there are.
 * An alert after a window's end is a false incident, as NAB scores it. The numbers are logged and
 * recorded in docs/detection.md.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, uniqueName } from '../helpers.ts';
import { countScores, influxClient, killAllDiffwatch, produceSeries, startDiffwatch, exitWithin, windowEndTimes } from '../service/runHelpers.ts';
import {
  ENTITY, FILE, PROBATION_ROWS, ROWS, WINDOW, distinctEvents, labelWindows, readAnomalies, runConfig, runNames, scoreRows, summarise, trainOnProbation, warmupEnd, type TrainedModel,
} from './helpers.ts';

/**
 * At most one false incident per ~10 days of 5-minute data after the warm-up (~67 days here):
 * an on-call engineer would still trust a page. Measured: 6 with the default score, one of them
 * 80 minutes after the Jan 27 window (docs/detection.md).
 */
const MAX_FALSE_INCIDENTS = 6;
/**
 * Label windows after the warm-up that this model and detector find (of 3). Measured: 2 (Dec 15,
 * Feb 7) with the default score. This file is in NAB's test half: nothing was tuned on it.
 */
const MIN_DETECTED = 2;
/** The label window of the February 2014 failure, the anomaly this series is known for. */
const FEBRUARY_FAILURE = Date.parse('2014-02-07T14:55:00Z');

afterEach(killAllDiffwatch);

describe('detection on NAB machine_temperature with the diffusion scorer', () => {
  const env = { KAFKA_BROKERS: '', INFLUX_URL: '', DIFFWATCH_LOG_LEVEL: 'info' };
  const topic = uniqueName('nab-telemetry');
  let model: TrainedModel;

  beforeAll(async () => {
    Object.assign(env, { KAFKA_BROKERS: kafkaBrokers().join(','), INFLUX_URL: influxUrl() });
    await createTopics(kafkaBrokers(), [topic], 1);
    model = await trainOnProbation({ ...env, DIFFWATCH_LOG_LEVEL: 'warn' });
    await produceSeries(kafkaClient(), { topic, entity: ENTITY, file: FILE, to: ROWS });
  });

  it('alerts only after warm-up, finds the February failure and 2 of the 3 judged label windows, with at most 6 false incidents', async () => {
    const names = runNames('nab');
    const influx = influxClient(names.database);
    const windows = new Set(windowEndTimes(FILE, ROWS, WINDOW)).size;

    const run = startDiffwatch(['run', '--config', runConfig(topic, model.dir, names), '--until-idle', '5'], env);
    const startedAt = Date.parse(run.logs()[await run.waitForLog((r) => r.msg === 'started', { what: 'service started', timeoutMs: 60_000 })].time);
    await run.waitFor(async () => (await countScores(influx, ENTITY).catch(() => 0)) >= windows, { what: `all ${windows} windows in InfluxDB`, timeoutMs: 240_000, intervalMs: 500 });
    const seconds = (Date.now() - startedAt) / 1000;
    const exit = await exitWithin(run, 60_000);
    expect(exit.code, exit.stderr.slice(-4000)).toBe(0);

    const rows = await scoreRows(influx, ENTITY);
    expect(rows.length).toBe(windows);
    const warmEnd = warmupEnd(rows);
    // Warm-up covers exactly the windows that end inside the training rows.
    const times = windowEndTimes(FILE, ROWS, WINDOW);
    expect(new Date(warmEnd).toISOString()).toBe(new Date(times[PROBATION_ROWS - WINDOW]).toISOString());
    expect(rows.filter((r) => r.time > warmEnd && r.state === 'warmup')).toHaveLength(0);

    const read = await readAnomalies(kafkaClient(), names.anomalies);
    const events = distinctEvents(read);
    const labels = labelWindows();
    const summary = summarise(events, labels, warmEnd, times[times.length - 1]);
    const throughput = ROWS / seconds;
    console.log(JSON.stringify({ model: model.version, trainSeconds: model.seconds, runSeconds: seconds, readingsPerSecond: Math.round(throughput), warmupEnd: new Date(warmEnd).toISOString(), ...summary }, null, 2));

    // No event of any kind before the detector's warm-up ended.
    const early = events.filter((e) => e.endTime <= warmEnd);
    expect(early.map((e) => `${e.kind} ${e.state} ${new Date(e.endTime).toISOString()}`)).toEqual([]);
    // Every model alert is in InfluxDB's alerts measurement too.
    const alertIds = new Set((await influx.query<{ event_id: string }>(`SELECT "event_id" FROM "alerts" WHERE "entity" = '${ENTITY}'`)).map((r) => r.event_id));
    expect(events.filter((e) => !alertIds.has(e.eventId)).map((e) => e.eventId)).toEqual([]);

    const scorable = summary.windows.filter((w) => !w.inWarmup);
    expect(scorable).toHaveLength(3);
    const february = scorable.find((w) => Date.parse(w.start) === FEBRUARY_FAILURE);
    expect(february?.detected, JSON.stringify(scorable)).toBe(true);
    expect(scorable.filter((w) => w.detected).length, JSON.stringify(scorable)).toBeGreaterThanOrEqual(MIN_DETECTED);
    expect(summary.falseIncidents.length, JSON.stringify(summary.falseIncidents)).toBeLessThanOrEqual(MAX_FALSE_INCIDENTS);
  });
});
