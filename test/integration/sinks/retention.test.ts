/**
 * Retention policies and roll-up continuous queries on the stack's InfluxDB 1.x: created once,
 * unchanged by a restart, ALTERed when a duration changes; the scheduled 1-minute CQs roll up
 * windows written a few minutes ago, and the 1-hour ones, backfilled as InfluxDB documents
 * (the CQ's SELECT ... INTO run once over a past range), give the same totals per hour.
 */
import { InfluxDB } from 'influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfluxHttp, type InfluxHttp } from '../../../src/sinks/influxHttp.ts';
import { alertPoint, scorePoint, scoreState, type ScoreState } from '../../../src/sinks/influxPoints.ts';
import { createInfluxWriter } from '../../../src/sinks/influxWriter.ts';
import { ensureRetention, type RetentionSettings } from '../../../src/sinks/retention.ts';
import { backfillStatement, createCqStatement, normaliseCq, RETENTION_POLICIES, rollupQueries } from '../../../src/sinks/rollups.ts';
import type { AnomalyEvent, ScoredWindow } from '../../../src/types.ts';
import { recordingLogger } from '../../unit/sinks/helpers/manual.ts';
import { influxUrl, uniqueName, waitUntil } from '../helpers.ts';

const SETTINGS: RetentionSettings = { enabled: true, raw: '30d', minute: '365d', hour: 'INF' };
const MINUTE = 60_000;
const HOUR = 3_600_000;
const ENTITIES = ['pump-a', 'press.7'];
const STATES: ScoreState[] = ['warmup', 'normal', 'normal', 'gap', 'anomaly', 'normal'];

let database: string;
let influx: InfluxDB;
let http: InfluxHttp;
const influxCfg = () => ({ url: influxUrl(), database, timeoutMs: 10_000 });
const ensure = (s: RetentionSettings = SETTINGS) => ensureRetention(influxCfg(), s, { log: recordingLogger() });

/** Three whole minutes ending two minutes ago, six windows per minute and entity, one every 10 s. */
const minuteNow = Math.floor(Date.now() / MINUTE) * MINUTE;
const MINUTES = [minuteNow - 4 * MINUTE, minuteNow - 3 * MINUTE, minuteNow - 2 * MINUTE];

function scored(entityId: string, k: number, m: number, i: number): ScoredWindow {
  const state = STATES[(i + m + k) % STATES.length];
  const endTime = MINUTES[m] + i * 10_000;
  return {
    window: { entityId, channels: ['temp'], length: 0, startTime: endTime - 5_000, endTime, timestamps: new Float64Array(0), values: new Float32Array(0), hasGap: state === 'gap', sources: [], releases: [] },
    score: { pointScores: new Float32Array(0), channelContributions: Float32Array.from([1]), score: state === 'anomaly' ? 9 + m + k : 1 + i * 0.5 + k, warmup: state === 'warmup' },
    threshold: 6 + m * 0.25, isAnomaly: state === 'anomaly', scorer: 'baseline', modelVersion: 'baseline@1',
  };
}
const windows = ENTITIES.flatMap((e, k) => MINUTES.flatMap((_, m) => Array.from({ length: 6 }, (_, i) => scored(e, k, m, i))));
const events: AnomalyEvent[] = windows.filter((w) => w.isAnomaly).map((w) => ({
  eventId: `${w.window.entityId}-${w.window.endTime}`, entityId: w.window.entityId, kind: 'score', state: 'open', severity: 'warning',
  startTime: w.window.endTime, endTime: w.window.endTime, detectedAt: w.window.endTime, score: w.score.score, threshold: w.threshold, modelVersion: w.modelVersion, contributions: [],
}));

/** What a roll-up interval of one entity must hold. */
function expected(ws: ScoredWindow[]) {
  const scores = ws.map((w) => w.score.score);
  const count = (s: ScoreState) => ws.filter((w) => scoreState(w) === s).length || null; // a CQ writes nothing for none
  const anomalous = ws.filter((w) => w.isAnomaly).map((w) => w.score.score);
  return {
    windows: ws.length, score_count: ws.length, score_sum: scores.reduce((a, b) => a + b, 0), score_max: Math.max(...scores),
    threshold_max: Math.max(...ws.map((w) => w.threshold)), state: scoreState(ws.at(-1) as ScoredWindow),
    normal: count('normal'), warmup: count('warmup'), gap: count('gap'), anomaly: count('anomaly'),
    anomaly_score_max: anomalous.length > 0 ? Math.max(...anomalous) : null,
  };
}

type Row = Record<string, unknown> & { time: Date; entity: string };
const rollupRows = (rp: string, measurement: string) => influx.query<Row>(`SELECT * FROM "${rp}"."${measurement}" GROUP BY "entity"`, { precision: 'ms' });
const showPolicies = async () => ((await http.query(`SHOW RETENTION POLICIES ON "${database}"`)) as { results: { series: { values: unknown[][] }[] }[] }).results[0].series[0].values;
async function showQueries(): Promise<string[][]> {
  const { results } = (await http.query('SHOW CONTINUOUS QUERIES')) as { results: { series: { name: string; values?: string[][] }[] }[] };
  return results[0].series.find((s) => s.name === database)?.values ?? [];
}

beforeAll(async () => {
  database = uniqueName('dw-ret');
  const url = new URL(influxUrl());
  influx = new InfluxDB({ host: url.hostname, port: Number(url.port), database });
  http = createInfluxHttp(influxCfg());
  await http.query(`CREATE DATABASE "${database}"`);
});

afterAll(async () => {
  await influx?.dropDatabase(database);
});

describe('ensureRetention on InfluxDB 1.x', () => {
  it('creates the three policies, raw as the default, and every roll-up CQ with its definition', async () => {
    const report = await ensure();
    expect(report.policies.map((p) => [p.name, p.action])).toEqual([['raw', 'created'], ['rollup_1m', 'created'], ['rollup_1h', 'created']]);
    expect(report.queries.every((q) => q.action === 'created')).toBe(true);
    expect(await showPolicies()).toEqual([
      ['autogen', '0s', '168h0m0s', 1, false],
      ['raw', '720h0m0s', '24h0m0s', 1, true],
      ['rollup_1m', '8760h0m0s', '168h0m0s', 1, false],
      ['rollup_1h', '0s', '168h0m0s', 1, false],
    ]);
    const shown = await showQueries();
    expect(shown.map(([name]) => name)).toEqual(rollupQueries().map((q) => q.name));
    for (const q of rollupQueries()) expect(normaliseCq(shown.find(([n]) => n === q.name)![1])).toBe(normaliseCq(createCqStatement(database, q)));
    // The definition as InfluxDB prints it, for one CQ in full.
    expect(shown.find(([n]) => n === 'diffwatch_anomaly_1m')![1]).toBe(
      `CREATE CONTINUOUS QUERY diffwatch_anomaly_1m ON "${database}" RESAMPLE EVERY 1m FOR 10m BEGIN SELECT count(state) AS anomaly, max(score) AS anomaly_score_max `
      + `INTO "${database}".rollup_1m.scores_1m FROM "${database}".raw.scores WHERE state = 'anomaly' GROUP BY time(1m), * END`,
    );
  });

  it('run again (a restart), it changes nothing and duplicates nothing', async () => {
    const [policies, queries] = [await showPolicies(), await showQueries()];
    const report = await ensure();
    expect([...report.policies, ...report.queries].every((x) => x.action === 'unchanged')).toBe(true);
    expect(await showPolicies()).toEqual(policies);
    expect(await showQueries()).toEqual(queries);
  });

  it('a changed duration ALTERs that policy only; a changed or retired CQ is recreated or dropped', async () => {
    const queries = await showQueries();
    const report = await ensure({ ...SETTINGS, raw: '60d', hour: '520w' });
    expect(report.policies.map((p) => [p.name, p.action])).toEqual([['raw', 'altered'], ['rollup_1m', 'unchanged'], ['rollup_1h', 'altered']]);
    expect((await showPolicies()).map((p) => p.slice(0, 2).concat(p[4]))).toEqual([['autogen', '0s', false], ['raw', '1440h0m0s', true], ['rollup_1m', '8760h0m0s', false], ['rollup_1h', '87360h0m0s', false]]);
    expect(await showQueries()).toEqual(queries);

    await http.query(`DROP CONTINUOUS QUERY diffwatch_gap_1m ON "${database}"`);
    await http.query(`CREATE CONTINUOUS QUERY diffwatch_gap_1m ON "${database}" BEGIN SELECT count(state) AS gap INTO "${database}".rollup_1m.scores_1m FROM "${database}".raw.scores GROUP BY time(1m), * END`);
    await http.query(`CREATE CONTINUOUS QUERY diffwatch_retired_1m ON "${database}" BEGIN SELECT count(score) AS n INTO "${database}".rollup_1m.old FROM "${database}".raw.scores GROUP BY time(1m) END`);
    const again = await ensure();
    expect(again.queries.filter((q) => q.action !== 'unchanged')).toEqual([{ name: 'diffwatch_gap_1m', action: 'recreated' }, { name: 'diffwatch_retired_1m', action: 'dropped' }]);
    expect(again.policies.map((p) => p.action)).toEqual(['altered', 'unchanged', 'altered']);
    const byName = (qs: string[][]) => [...qs].sort(([a], [b]) => a.localeCompare(b));
    expect(byName(await showQueries())).toEqual(byName(queries));
  });

  it('the scheduled 1-minute CQs roll up windows written a few minutes ago', async () => {
    const writer = createInfluxWriter({ url: influxUrl(), database, batchSize: 500, flushIntervalMs: 20, maxBufferPoints: 1_000, retryDelayMs: 50, maxRetryDelayMs: 500, timeoutMs: 10_000 }, { log: recordingLogger() });
    await expect(writer.write([...windows.map(scorePoint), ...events.map(alertPoint)])).resolves.toMatchObject({ written: windows.length + events.length, rejected: 0 });
    await writer.close();
    // The CQs run at each minute boundary over the last 10 minutes (RESAMPLE FOR 10m), one after
    // another. A run that starts while the points are being written rolls up part of a minute, and
    // the next run rewrites it; a read between two CQs of one run sees the scores CQ's fields before
    // the state counts. Wait until every row holds all of its minute's windows and every field its
    // minute calls for; the values are asserted below.
    const inMinute = (row: Row) => windows.filter((w) => w.window.entityId === row.entity && Math.floor(w.window.endTime / MINUTE) * MINUTE === row.time.getTime());
    const hasEveryField = (row: Row) => Object.entries(expected(inMinute(row))).every(([k, v]) => v === null || row[k] != null);
    const complete = async () => {
      const rows = await rollupRows(RETENTION_POLICIES.minute, 'scores_1m');
      return rows.length === ENTITIES.length * MINUTES.length && rows.every((r) => Number(r.windows) === 6 && hasEveryField(r));
    };
    await waitUntil(complete, { timeoutMs: 110_000, intervalMs: 1_000, what: 'complete scores_1m rows from the scheduled CQs' });
    const rows = await rollupRows(RETENTION_POLICIES.minute, 'scores_1m');
    for (const row of rows) {
      const ws = inMinute(row);
      const { score_sum: sum, ...exact } = expected(ws);
      expect(row, `${row.entity} ${row.time.toISOString()}`).toMatchObject({ ...exact, model_version: 'baseline@1', scorer: 'baseline' });
      expect(row.score_sum).toBeCloseTo(sum, 9);
      expect(row.score_mean).toBeCloseTo(sum / ws.length, 9);
    }
    await waitUntil(async () => (await rollupRows(RETENTION_POLICIES.minute, 'alerts_1m')).length > 0, { timeoutMs: 70_000, intervalMs: 1_000, what: 'alerts_1m' });
    const alerts = await rollupRows(RETENTION_POLICIES.minute, 'alerts_1m');
    expect(alerts.reduce((a, r) => a + Number(r.events), 0)).toBe(events.length);
  });

  it('the 1-hour roll-ups, backfilled by running each CQ body once, hold the same totals per hour', async () => {
    const from = Math.floor(MINUTES[0] / HOUR) * HOUR;
    for (const q of rollupQueries().filter((x) => x.resolution === '1h')) {
      const answer = (await http.query(backfillStatement(database, q, from, minuteNow))) as { results: { series?: { values: unknown[][] }[] }[] };
      expect(answer.results[0].series?.[0].values[0][1], q.name).toBeGreaterThan(0); // points written
    }
    const rows = await rollupRows(RETENTION_POLICIES.hour, 'scores_1h');
    const hours = [...new Set(windows.map((w) => Math.floor(w.window.endTime / HOUR) * HOUR))];
    expect(rows).toHaveLength(ENTITIES.length * hours.length);
    for (const row of rows) {
      const ws = windows.filter((w) => w.window.entityId === row.entity && Math.floor(w.window.endTime / HOUR) * HOUR === row.time.getTime());
      const { score_sum: sum, ...exact } = expected(ws);
      expect(row, row.entity).toMatchObject(exact);
      expect(row.score_sum).toBeCloseTo(sum, 9);
    }
    const alerts = await rollupRows(RETENTION_POLICIES.hour, 'alerts_1h');
    expect(alerts.reduce((a, r) => a + Number(r.events), 0)).toBe(events.length);
  });

  it('does nothing when retention is off', async () => {
    const calls: string[] = [];
    const report = await ensureRetention(influxCfg(), { ...SETTINGS, enabled: false }, { http: { query: async (q) => { calls.push(q); return {}; } } });
    expect(report).toEqual({ policies: [], queries: [] });
    expect(calls).toEqual([]);
  });
});
