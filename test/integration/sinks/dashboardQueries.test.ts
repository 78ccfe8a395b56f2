/**
 * Every query of both Grafana dashboards, expanded as Grafana expands it, run against the stack's
 * InfluxDB 1.x over data written by the real writer and point builders (the roll-ups made from it
 * by the retention CQs, backfilled); each result is compared with what that data must give, so a
 * wrong panel query fails here.
 */
import { InfluxDB, type IPoint } from 'influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfluxConfig } from '../../../src/config/schema.ts';
import { expandDashboardQueries, readDashboard, readDashboards, type ExpandOptions } from '../../../src/sinks/dashboardQueries.ts';
import { createInfluxHttp } from '../../../src/sinks/influxHttp.ts';
import { ensureRetention } from '../../../src/sinks/retention.ts';
import { backfillStatement, rollupQueries } from '../../../src/sinks/rollups.ts';
import { alertPoint, scorePoint, scoreState, type ScoreState } from '../../../src/sinks/influxPoints.ts';
import { createInfluxWriter, type InfluxWriter } from '../../../src/sinks/influxWriter.ts';
import type { AnomalyEvent, ScoredWindow } from '../../../src/types.ts';
import { INTERNAL_FIELDS, INTERNAL_MEASUREMENT, INTERNAL_TAGS, type InternalField } from '../../../src/ops/internalMeasurement.ts';
import { recordingLogger } from '../../unit/sinks/helpers/manual.ts';
import { influxUrl, uniqueName } from '../helpers.ts';

// Within the raw retention (30 days) and a whole hour, so the GROUP BY time buckets of every
// interval (10 s, 1 min, 1 h) start at T0.
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / 3_600_000) * 3_600_000;
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

const expand = (variables: ExpandOptions['variables'], intervalMs = INTERVAL) => expandDashboardQueries(readDashboard(), { ...RANGE, intervalMs, variables });
const dashboardAll = expand(ALL);
const checked = new Set<string>();

/**
 * Pipeline health: two instances (one with a regex metacharacter) write diffwatch_internal every
 * 2.5 s over the range, so each 10 s bucket aggregates four points. Values are multiples of 1/4,
 * so means and sums are exact in floating point.
 */
const INSTANCES = ['host-a:101', 'host.b:202'];
const STEP = 2_500;
const internalValue = (field: InternalField, k: number, j: number) => ((Object.values(INTERNAL_FIELDS).indexOf(field) + 1) * (k + 1) * 4 + ((j * 7 + field.length) % 11)) / 4;
const internalPoints: IPoint[] = INSTANCES.flatMap((instance, k) => Array.from({ length: N * 1_000 / STEP }, (_, j) => ({
  measurement: INTERNAL_MEASUREMENT, tags: { [INTERNAL_TAGS.instance]: instance }, timestamp: T0 + j * STEP,
  fields: Object.fromEntries(Object.values(INTERNAL_FIELDS).map((f) => [f, internalValue(f, k, j)])),
})));
const expandPipeline = (instance: string | string[]) => expandDashboardQueries(readDashboards().pipeline, { ...RANGE, intervalMs: INTERVAL, variables: { instance } });
const checkedPipeline = new Set<string>();

let database: string;
let influx: InfluxDB;
let writer: InfluxWriter;

type Row = Record<string, unknown> & { time: Date };
/** Runs the expanded query of one panel target (by title prefix and refId) and marks it checked. */
async function run(title: string, refId: string, variables: ExpandOptions['variables'] = ALL, intervalMs = INTERVAL): Promise<Row[]> {
  const q = expand(variables, intervalMs).find((x) => x.title.startsWith(title) && x.refId === refId);
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
  await ensureRetention(cfg, { enabled: true, raw: '30d', minute: '365d', hour: 'INF' }, { log: recordingLogger() });
  await expect(writer.write([...windows.map(scorePoint), ...events.map(alertPoint)])).resolves.toEqual({ written: 2 * N + events.length, rejected: 0, rejectedPoints: [] });
  await expect(writer.write(internalPoints)).resolves.toMatchObject({ written: internalPoints.length, rejected: 0 });
  // The roll-ups of the data above, as the CQs would write them: each CQ's body run once (backfill).
  const http = createInfluxHttp(cfg);
  for (const q of rollupQueries()) await http.query(backfillStatement(database, q, T0, T0 + 3_600_000));
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

  describe.each([['1m', 60_000], ['1h', 3_600_000]] as const)('%s roll-up panels', (r, intervalMs) => {
    // Every window lies in the first minute (and hour) after T0: one roll-up bucket, at T0.
    const title = (panel: string) => `${panel} (${r} roll-ups)`;
    it('score and threshold: the exact mean score, the highest threshold, the highest anomalous score', async () => {
      for (const sel of SELECTIONS) {
        const selected = ENTITIES.filter(scoresSelected(sel)).sort((a, b) => a.id.localeCompare(b.id));
        const rows = byTime(await run(title('Score and threshold'), 'A', sel, intervalMs));
        expect(rows.map(({ time, entity, threshold }) => ({ time, entity, threshold }))).toEqual(selected.map((e) => ({ time: T0, entity: e.id, threshold: e.threshold })));
        rows.forEach((row, i) => expect(row.score).toBeCloseTo(mean(windows.filter((w) => w.window.entityId === selected[i].id).map((w) => w.score.score)), 9));
      }
      expect(byTime(await run(title('Score and threshold'), 'B', ALL, intervalMs))).toEqual([{ time: T0, entity: 'press.7', anomaly: 10 }, { time: T0, entity: 'pump-a', anomaly: 10 }]);
    });

    it('window states: the windows per state equal what was written', async () => {
      for (const sel of SELECTIONS) {
        const count = (state: ScoreState) => windows.filter((w) => scoresSelected(sel)(entityOf(w)) && scoreState(w) === state).length;
        expect(byTime(await run(title('Window states per interval'), 'A', sel, intervalMs)), String(sel.entity)).toEqual([
          { time: T0, normal: count('normal'), warmup: count('warmup'), gap: count('gap'), anomaly: count('anomaly') },
        ]);
      }
    });

    it('alert events by severity', async () => {
      expect(byTime(await run(title('Alert events per interval by severity'), 'A', ALL, intervalMs))).toEqual(['critical', 'warning'].map((severity) => ({
        time: T0, severity, events: events.filter((e) => e.severity === severity).length,
      })));
      expect(byTime(await run(title('Alert events per interval by severity'), 'A', PRESS, intervalMs))).toEqual([{ time: T0, severity: 'critical', events: 3 }]);
    });
  });

  it('checked the values of every query of the dashboard', () => {
    expect([...checked].sort()).toEqual(dashboardAll.map((q) => q.path).sort());
  });
});

describe('pipeline-health dashboard queries against InfluxDB 1.x', () => {
  const SELECTED: (string | string[])[] = [INSTANCES, 'host.b:202'];
  const F = INTERNAL_FIELDS;
  type Agg = 'mean' | 'max' | 'sum' | 'last';
  const aggregate = (fn: Agg, xs: number[]) => (fn === 'mean' ? mean(xs) : fn === 'max' ? Math.max(...xs) : fn === 'sum' ? xs.reduce((a, x) => a + x, 0) : (xs.at(-1) as number));
  const valuesOf = (field: InternalField, k: number, b: number) => internalPoints
    .filter((p) => p.tags![INTERNAL_TAGS.instance] === INSTANCES[k] && inBucket(p.timestamp as number, b)).map((p) => p.fields![field] as number);
  const selectedK = (sel: string | string[]) => INSTANCES.map((_, k) => k).filter((k) => [sel].flat().includes(INSTANCES[k]));

  async function runPipeline(title: string, sel: string | string[]): Promise<(Record<string, unknown> & { time: number })[]> {
    const q = expandPipeline(sel).find((x) => x.title === title);
    if (!q) throw new Error(`no pipeline query ${title}`);
    checkedPipeline.add(q.path);
    return byTime(await influx.query<Row>(q.influxql, { precision: 'ms' }));
  }

  it('every query runs without error and returns data, for both instances and for one', async () => {
    for (const sel of SELECTED) {
      for (const q of expandPipeline(sel)) {
        const { results } = await influx.queryRaw(q.influxql, { precision: 'ms' }) as { results: { error?: string; series?: unknown[] }[] };
        expect(results[0].error, `${q.path}: ${q.influxql}`).toBeUndefined();
        expect(results[0].series?.length ?? 0, `${q.path} returned nothing: ${q.influxql}`).toBeGreaterThan(0);
      }
    }
  });

  /** Per-instance time series panels: alias → (aggregate, field). */
  const PANELS: [string, Record<string, [Agg, InternalField]>][] = [
    ['Throughput', { readings_per_s: ['mean', F.readingsPerSecond], windows_per_s: ['mean', F.windowsPerSecond] }],
    ['Consumer lag', { lag: ['max', F.lagMessages] }],
    ['End-to-end latency', { p50: ['mean', F.latencyP50Ms], p99: ['max', F.latencyP99Ms], max: ['max', F.latencyMaxMs] }],
    ['Dead-lettered messages', { dead_lettered: ['sum', F.deadLettered] }],
    ['InfluxDB writer buffer fill', { buffer_fill: ['max', F.bufferFill] }],
    ['InfluxDB write retries', { retries: ['sum', F.influxRetries] }],
    ['Model call duration', { p50: ['mean', F.modelCallP50Ms], p99: ['max', F.modelCallP99Ms] }],
    ['Model batch size and worker queue', { batch_size: ['mean', F.modelBatchSize], queue_depth: ['max', F.workerQueueDepth] }],
  ];
  it.each(PANELS)('%s: per instance and interval, the aggregate of what was written', async (title, columns) => {
    for (const sel of SELECTED) {
      const want = selectedK(sel).flatMap((k) => buckets.map((b) => ({
        time: b, instance: INSTANCES[k], ...Object.fromEntries(Object.entries(columns).map(([alias, [fn, field]]) => [alias, aggregate(fn, valuesOf(field, k, b))])),
      })));
      expect(await runPipeline(title, sel), `${title} ${sel}`).toEqual(want);
    }
  });

  it('entities by state: each instance\'s last count per interval, summed over the instances', async () => {
    for (const sel of SELECTED) {
      const sum = (field: InternalField, b: number) => selectedK(sel).reduce((a, k) => a + aggregate('last', valuesOf(field, k, b)), 0);
      expect(await runPipeline('Entities by state', sel)).toEqual(buckets.map((b) => ({
        time: b, warmup: sum(F.entitiesWarmup, b), cold_start: sum(F.entitiesColdStart, b), scoring: sum(F.entitiesScoring, b),
      })));
    }
  });

  it('instances table: the last figures of every instance, whatever the selection', async () => {
    const last = (field: InternalField, k: number) => internalPoints.filter((p) => p.tags![INTERNAL_TAGS.instance] === INSTANCES[k]).at(-1)!.fields![field];
    const rows = await runPipeline('Instances: latest', 'host.b:202');
    expect(rows.map(({ time: _t, ...r }) => r)).toEqual(INSTANCES.map((instance, k) => ({
      instance, readings_per_s: last(F.readingsPerSecond, k), windows_per_s: last(F.windowsPerSecond, k), lag: last(F.lagMessages, k),
      latency_p99_ms: last(F.latencyP99Ms, k), buffer_fill: last(F.bufferFill, k), queue_depth: last(F.workerQueueDepth, k),
    })));
  });

  it('the instance variable lists every instance', async () => {
    const q = expandPipeline(INSTANCES).find((x) => x.site === 'variable' && x.title === 'instance')!;
    checkedPipeline.add(q.path);
    expect((await influx.query<{ value: string }>(q.influxql)).map((r) => r.value)).toEqual(INSTANCES);
  });

  it('checked the values of every query of the dashboard', () => {
    expect([...checkedPipeline].sort()).toEqual(expandPipeline(INSTANCES).map((q) => q.path).sort());
  });
});
