/**
 * Every query of the Grafana dashboard, expanded as Grafana expands it, run against the stack's
 * InfluxDB 1.x over data written by the real writer and point builders; each result is compared
 * with what that data must give, so a wrong panel query fails here.
 */
import { InfluxDB } from 'influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfluxConfig } from '../../../src/config/schema.ts';
import { expandDashboardQueries, readDashboard, type ExpandOptions } from '../../../src/sinks/dashboardQueries.ts';
import { alertPoint, scorePoint, scoreState, type ScoreState } from '../../../src/sinks/influxPoints.ts';
import { createInfluxWriter, type InfluxWriter } from '../../../src/sinks/influxWriter.ts';
import type { AnomalyEvent, ScoredWindow } from '../../../src/types.ts';
import { recordingLogger } from '../../unit/sinks/helpers/manual.ts';
import { influxUrl, uniqueName } from '../helpers.ts';

const T0 = 1_700_000_000_000; // a multiple of INTERVAL, so the GROUP BY time buckets start at T0
const INTERVAL = 10_000;
const N = 60; // windows per entity, one a second: six buckets
const CHANNELS = ['temp', 'rpm'];
const RANGE = { from: T0, to: T0 + N * 1_000 - 1 };

interface Entity { id: string; model: string; threshold: number; stateAt(i: number): ScoreState; anomalyShares: number[] }
// `press.7` has a regex metacharacter: the expanded `/^press\.7$/` must still match it.
const ENTITIES: Entity[] = [
  { id: 'pump-a', model: 'baseline@1', threshold: 6, anomalyShares: [0.8, 0.2],
    stateAt: (i) => (i < 10 ? 'warmup' : i >= 20 && i < 25 ? 'gap' : i >= 40 && i < 45 ? 'anomaly' : 'normal') },
  { id: 'press.7', model: 'diffusion@2', threshold: 7, anomalyShares: [0.3, 0.7],
    stateAt: (i) => (i < 5 ? 'warmup' : i >= 30 && i < 33 ? 'anomaly' : i >= 50 && i < 52 ? 'gap' : 'normal') },
];

function scored(e: Entity, k: number, i: number): ScoredWindow {
  const state = e.stateAt(i);
  const L = 4;
  const endTime = T0 + i * 1_000;
  return {
    window: {
      entityId: e.id, channels: CHANNELS, length: L, startTime: endTime - 3_000, endTime,
      timestamps: Float64Array.from({ length: L }, (_, j) => endTime - (L - 1 - j) * 1_000),
      values: new Float32Array(L * CHANNELS.length), // [L, C]
      hasGap: state === 'gap', sources: [], releases: [],
    },
    score: {
      pointScores: new Float32Array(L),
      channelContributions: Float32Array.from(state === 'anomaly' ? e.anomalyShares : [0.5, 0.5]),
      score: state === 'anomaly' ? 8 + (i % 3) : 1 + (i % 5) * 0.5 + k * 0.25,
      warmup: state === 'warmup',
    },
    threshold: e.threshold, isAnomaly: state === 'anomaly', scorer: 'baseline', modelVersion: e.model,
  };
}
const windows = ENTITIES.flatMap((e, k) => Array.from({ length: N }, (_, i) => scored(e, k, i)));

function event(entityId: string, model: string, state: AnomalyEvent['state'], severity: AnomalyEvent['severity'], startS: number, endS: number, contributions: AnomalyEvent['contributions']): AnomalyEvent {
  return {
    eventId: `${entityId}-${startS}`, entityId, kind: 'score', state, severity, startTime: T0 + startS * 1_000, endTime: T0 + endS * 1_000,
    detectedAt: T0 + endS * 1_000 + 200, score: 8 + endS / 100, threshold: 6, modelVersion: model, contributions,
  };
}
const shares = (temp: number) => [{ channel: 'temp', share: temp }, { channel: 'rpm', share: 1 - temp }];
const events: AnomalyEvent[] = [
  event('press.7', 'diffusion@2', 'open', 'critical', 30, 30, shares(0.3)),
  event('press.7', 'diffusion@2', 'resolved', 'critical', 30, 33, shares(0.3)),
  event('pump-a', 'baseline@1', 'open', 'warning', 40, 40, shares(0.8)),
  event('pump-a', 'baseline@1', 'ongoing', 'warning', 40, 42, shares(0.8)),
  event('pump-a', 'baseline@1', 'resolved', 'warning', 40, 45, shares(0.8)),
  event('press.7', 'diffusion@2', 'open', 'critical', 55, 55, []), // no contributions: no top_channel
];
const topChannel = (e: AnomalyEvent) => e.contributions.reduce<{ channel: string; share: number } | null>((b, c) => (!b || c.share > b.share ? c : b), null)?.channel ?? null;

/** Selections to expand the dashboard for: every entity ("All"), one entity, one model version. */
type Selection = { entity: string | string[]; model_version: string[] };
const ALL: Selection = { entity: ENTITIES.map((e) => e.id), model_version: ENTITIES.map((e) => e.model) };
const PRESS: Selection = { entity: 'press.7', model_version: ['diffusion@2'] };
const BASELINE: Selection = { ...ALL, model_version: ['baseline@1'] };
const SELECTIONS = [ALL, PRESS, BASELINE];
/** The alerts panels filter by entity only; the scores panels by entity and model version. */
const entitySelected = (sel: Selection) => (e: { entityId: string }) => [sel.entity].flat().includes(e.entityId);
const scoresSelected = (sel: Selection) => (e: Entity) => [sel.entity].flat().includes(e.id) && sel.model_version.includes(e.model);
const entityOf = (w: ScoredWindow) => ENTITIES.find((e) => e.id === w.window.entityId) as Entity;

const expand = (variables: ExpandOptions['variables']) => expandDashboardQueries(readDashboard(), { ...RANGE, intervalMs: INTERVAL, variables });
const dashboardAll = expand(ALL);
const checked = new Set<string>();

let database: string;
let influx: InfluxDB;
let writer: InfluxWriter;

type Row = Record<string, unknown> & { time: Date };
/** Runs the expanded query of one panel target (by title prefix and refId) and marks it checked. */
async function run(title: string, refId: string, variables: ExpandOptions['variables'] = ALL): Promise<Row[]> {
  const q = expand(variables).find((x) => x.title.startsWith(title) && x.refId === refId);
  if (!q) throw new Error(`no dashboard query ${title} ${refId}`);
  checked.add(q.path);
  return influx.query<Row>(q.influxql, { precision: 'ms' });
}
const byTime = (rows: Row[]): (Record<string, unknown> & { time: number })[] => rows.map((r) => ({ ...r, time: r.time.getTime() }));
const buckets = Array.from({ length: N / 10 }, (_, b) => T0 + b * INTERVAL);
const inBucket = (t: number, b: number) => t >= b && t < b + INTERVAL;
const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

beforeAll(async () => {
  database = uniqueName('dw-dash');
  const url = new URL(influxUrl());
  influx = new InfluxDB({ host: url.hostname, port: Number(url.port), database });
  const cfg: InfluxConfig = { url: influxUrl(), database, batchSize: 500, flushIntervalMs: 20, maxBufferPoints: 1_000, retryDelayMs: 50, maxRetryDelayMs: 500, timeoutMs: 10_000 };
  writer = createInfluxWriter(cfg, { log: recordingLogger() });
  await writer.ensureDatabase();
  await expect(writer.write([...windows.map(scorePoint), ...events.map(alertPoint)])).resolves.toEqual({ written: 2 * N + events.length, rejected: 0, rejectedPoints: [] });
});

afterAll(async () => {
  await writer?.close();
  await influx?.dropDatabase(database);
});

describe('dashboard queries against InfluxDB 1.x', () => {
  it('every query runs without error and returns data, for all entities and for one', async () => {
    for (const sel of SELECTIONS) {
      for (const q of expand(sel)) {
        const { results } = await influx.queryRaw(q.influxql, { precision: 'ms' }) as { results: { error?: string; series?: unknown[] }[] };
        expect(results[0].error, `${q.path}: ${q.influxql}`).toBeUndefined();
        expect(results[0].series?.length ?? 0, `${q.path} returned nothing: ${q.influxql}`).toBeGreaterThan(0);
      }
    }
  });

  it('score and threshold: the mean per interval per entity, and the anomalous intervals', async () => {
    const expected = (sel: Selection) => ENTITIES.filter(scoresSelected(sel)).sort((a, b) => a.id.localeCompare(b.id)).flatMap((e) => buckets.map((b) => {
      const ws = windows.filter((w) => w.window.entityId === e.id && inBucket(w.window.endTime, b));
      return { time: b, entity: e.id, score: mean(ws.map((w) => w.score.score)), threshold: e.threshold };
    }));
    for (const sel of SELECTIONS) {
      const rows = byTime(await run('Score and threshold', 'A', sel));
      expect(rows.map((r) => ({ time: r.time, entity: r.entity, threshold: r.threshold }))).toEqual(expected(sel).map(({ score: _s, ...r }) => r));
      rows.forEach((r, i) => expect(r.score).toBeCloseTo(expected(sel)[i].score, 9));
    }
    expect(byTime(await run('Score and threshold', 'B'))).toEqual([
      { time: T0 + 30_000, entity: 'press.7', anomaly: 10 }, // i = 30, 31, 32: 8 + i % 3
      { time: T0 + 40_000, entity: 'pump-a', anomaly: 10 }, // i = 40..44
    ]);
  });

  it('window states: the count per state per interval equals what was written', async () => {
    for (const [refId, state] of [['A', 'normal'], ['B', 'warmup'], ['C', 'gap'], ['D', 'anomaly']] as const) {
      for (const sel of SELECTIONS) {
        const want = buckets.map((b) => ({ time: b, [state]: windows.filter((w) => scoresSelected(sel)(entityOf(w)) && scoreState(w) === state && inBucket(w.window.endTime, b)).length }));
        expect(byTime(await run('Window states', refId, sel)), `${state} ${sel.entity}`).toEqual(want);
      }
    }
  });

  it('alert events per interval, one series per severity', async () => {
    const want = ['critical', 'warning'].flatMap((severity) => buckets.map((b) => ({
      time: b, severity, events: events.filter((e) => e.severity === severity && inBucket(e.endTime, b)).length,
    })));
    expect(byTime(await run('Alert events per interval', 'A'))).toEqual(want);
    expect(want.filter((r) => r.events > 0).map((r) => [r.time - T0, r.severity, r.events])).toEqual([[30_000, 'critical', 2], [50_000, 'critical', 1], [40_000, 'warning', 3]]);
  });

  it('channel shares: the mean contribution of each channel over the anomalous windows', async () => {
    const [all] = await run('Channel shares', 'A');
    const anomalous = windows.filter((w) => w.isAnomaly);
    CHANNELS.forEach((c, j) => expect(all[`mean_contrib_${c}`]).toBeCloseTo(mean(anomalous.map((w) => w.score.channelContributions[j])), 6));
    expect(all.mean_contrib_temp).toBeCloseTo((5 * 0.8 + 3 * 0.3) / 8, 6);
    const round = (r: Row) => [r.mean_contrib_temp, r.mean_contrib_rpm].map((x) => Math.round(Number(x) * 1e6) / 1e6);
    expect(round((await run('Channel shares', 'A', PRESS))[0])).toEqual([0.3, 0.7]);
    expect(round((await run('Channel shares', 'A', BASELINE))[0])).toEqual([0.8, 0.2]);
  });

  it('alerts tables: exactly the events written, newest first, for one entity and for all', async () => {
    const rowOf = (e: AnomalyEvent) => ({
      time: e.endTime, entity: e.entityId, kind: e.kind, state: e.state, severity: e.severity, score: e.score, top_channel: topChannel(e), event_id: e.eventId,
    });
    const newestFirst = (es: AnomalyEvent[]) => [...es].sort((a, b) => b.endTime - a.endTime).map(rowOf);
    expect(byTime(await run('Alerts: $entity', 'A', PRESS))).toEqual(newestFirst(events.filter(entitySelected(PRESS))));
    expect(byTime(await run('Alerts: $entity', 'A', { ...ALL, entity: 'pump-a' }))).toEqual(newestFirst(events.filter((e) => e.entityId === 'pump-a')));
    expect(byTime(await run('Alerts: all entities', 'A', PRESS))).toEqual(newestFirst(events));
  });

  it('entities overview: the latest score and state of every entity', async () => {
    const rows = await run('Entities: latest score', 'A', PRESS); // not filtered by the selection
    const last = (id: string) => windows.filter((w) => w.window.entityId === id).at(-1) as ScoredWindow;
    expect(rows.map(({ entity, score, state }) => ({ entity, score, state }))).toEqual(
      ['press.7', 'pump-a'].map((id) => ({ entity: id, score: last(id).score.score, state: scoreState(last(id)) })),
    );
  });

  it('variables and annotations: entity and chained model_version values, alert openings', async () => {
    const values = (title: string, sel: ExpandOptions['variables']) => {
      const q = expand(sel).find((x) => x.site === 'variable' && x.title === title);
      checked.add(q!.path);
      return influx.query<{ value: string }>(q!.influxql).then((rs) => rs.map((r) => r.value));
    };
    expect(await values('entity', ALL)).toEqual(['press.7', 'pump-a']);
    expect(await values('model_version', ALL)).toEqual(['baseline@1', 'diffusion@2']);
    expect(await values('model_version', PRESS)).toEqual(['diffusion@2']);
    expect(await values('model_version', { ...ALL, entity: 'pump-a' })).toEqual(['baseline@1']);
    for (const sel of [ALL, PRESS]) {
      const ann = expand(sel).find((x) => x.site === 'annotation');
      checked.add(ann!.path);
      const rows = byTime(await influx.query<Row>(ann!.influxql, { precision: 'ms' }));
      expect(rows.map((r) => r.event_id)).toEqual(events.filter((e) => e.state === 'open' && entitySelected(sel)(e)).map((e) => e.eventId));
    }
  });

  it('checked the values of every query of the dashboard', () => {
    expect([...checked].sort()).toEqual(dashboardAll.map((q) => q.path).sort());
  });
});
