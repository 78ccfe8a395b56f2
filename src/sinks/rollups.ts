/**
 * The roll-ups of diffwatch's InfluxDB data, declared once: the retention policies they live
 * under, the 1-minute and 1-hour measurements and fields they write, and the continuous queries
 * (CQs) that compute them from the raw `scores` and `alerts` points. `retention.ts` installs
 * them; the Grafana dashboards (src/dashboards) read them by these names.
 *
 * A roll-up point is one interval of one series (entity, model version, scorer; or entity,
 * kind, state, severity for alerts), time-stamped at the interval's start. Several CQs write
 * fields of the same point: InfluxDB merges the fields of points with the same series and time.
 * A CQ whose WHERE matches nothing in an interval writes nothing, so a missing state count is 0.
 *
 * Each CQ recomputes a trailing span on every run (`RESAMPLE ... FOR`), so windows written late
 * (consumer lag, a retried batch) still reach their roll-up; the recomputed point overwrites.
 *
 * @example
 * for (const cq of rollupQueries('diffwatch')) await http.query(createCqStatement('diffwatch', cq));
 * await http.query(backfillStatement('diffwatch', cq, fromMs, toMs)); // InfluxDB's documented backfill
 */
import { ALERT_FIELDS, ALERTS_MEASUREMENT, SCORE_FIELDS, SCORES_MEASUREMENT, type ScoreState } from './influxPoints.ts';
import { quoteIdent, quoteString } from './influxQl.ts';

/** Retention policy names: raw points (the database's default policy) and the two roll-ups. */
export const RETENTION_POLICIES = { raw: 'raw', minute: 'rollup_1m', hour: 'rollup_1h' } as const;

export type Resolution = '1m' | '1h';
export const RESOLUTIONS: readonly Resolution[] = ['1m', '1h'];

/** The policy each resolution is written under. */
export const ROLLUP_POLICY: Record<Resolution, string> = { '1m': RETENTION_POLICIES.minute, '1h': RETENTION_POLICIES.hour };

/** `scores_1m`, `alerts_1h`, ... */
export const rollupMeasurement = (raw: typeof SCORES_MEASUREMENT | typeof ALERTS_MEASUREMENT, r: Resolution) => `${raw}_${r}`;

/** Fields of `scores_1m` / `scores_1h`. Tags: those of `scores` (entity, model_version, scorer). */
export const SCORE_ROLLUP_FIELDS = {
  /** integer: windows scored in the interval (every window has a state). */
  windows: 'windows',
  /** integer: windows with a finite score; `score_sum / score_count` is the exact mean over any span. */
  scoreCount: 'score_count',
  scoreSum: 'score_sum',
  scoreMean: 'score_mean',
  scoreMax: 'score_max',
  thresholdMax: 'threshold_max',
  /** string: the state of the interval's last window. */
  lastState: 'state',
  /** integer: windows per state; absent (0) when none. */
  normal: 'normal',
  warmup: 'warmup',
  gap: 'gap',
  anomaly: 'anomaly',
  /** float: the highest score of the interval's anomalous windows; absent when none. */
  anomalyScoreMax: 'anomaly_score_max',
} as const satisfies Record<string, string> & Record<ScoreState, string>;

/** Fields of `alerts_1m` / `alerts_1h`. Tags: those of `alerts` (entity, kind, state, severity). */
export const ALERT_ROLLUP_FIELDS = {
  /** integer: alert events (open, ongoing, resolved) in the interval. */
  events: 'events',
  scoreMax: 'score_max',
} as const;

/** One continuous query: `SELECT <select> INTO <policy>.<into> FROM raw.<from> [WHERE <where>] GROUP BY time(<r>), *`. */
export interface RollupQuery {
  name: string;
  resolution: Resolution;
  from: string;
  into: string;
  /** `aggregate AS "field"` terms. */
  select: string[];
  where?: string;
}

/** How often each resolution's CQs run and how far back each run recomputes. */
export const RESAMPLE: Record<Resolution, { every: string; for: string }> = {
  '1m': { every: '1m', for: '10m' },
  '1h': { every: '1h', for: '2h' },
};

const as = (expr: string, field: string) => `${expr} AS ${quoteIdent(field)}`;
const f = quoteIdent;

function scoreQueries(r: Resolution): RollupQuery[] {
  const base = { resolution: r, from: SCORES_MEASUREMENT, into: rollupMeasurement(SCORES_MEASUREMENT, r) };
  const F = SCORE_ROLLUP_FIELDS;
  const S = SCORE_FIELDS;
  const stateCount = (state: Exclude<ScoreState, 'anomaly'>): RollupQuery => ({
    ...base, name: `diffwatch_${state}_${r}`, select: [as(`count(${f(S.state)})`, F[state])], where: `${f(S.state)} = ${quoteString(state)}`,
  });
  return [
    {
      ...base,
      name: `diffwatch_scores_${r}`,
      select: [
        as(`count(${f(S.state)})`, F.windows), as(`count(${f(S.score)})`, F.scoreCount), as(`sum(${f(S.score)})`, F.scoreSum),
        as(`mean(${f(S.score)})`, F.scoreMean), as(`max(${f(S.score)})`, F.scoreMax), as(`max(${f(S.threshold)})`, F.thresholdMax),
        as(`last(${f(S.state)})`, F.lastState),
      ],
    },
    stateCount('normal'),
    stateCount('warmup'),
    stateCount('gap'),
    {
      ...base,
      name: `diffwatch_anomaly_${r}`,
      select: [as(`count(${f(S.state)})`, F.anomaly), as(`max(${f(S.score)})`, F.anomalyScoreMax)],
      where: `${f(S.state)} = ${quoteString('anomaly')}`,
    },
  ];
}

function alertQuery(r: Resolution): RollupQuery {
  return {
    name: `diffwatch_alerts_${r}`, resolution: r, from: ALERTS_MEASUREMENT, into: rollupMeasurement(ALERTS_MEASUREMENT, r),
    select: [as(`count(${f(ALERT_FIELDS.eventId)})`, ALERT_ROLLUP_FIELDS.events), as(`max(${f(ALERT_FIELDS.score)})`, ALERT_ROLLUP_FIELDS.scoreMax)],
  };
}

/** Every CQ diffwatch installs, 1-minute ones first. The 1-hour ones also read the raw points, so every roll-up is exact. */
export function rollupQueries(): RollupQuery[] {
  return RESOLUTIONS.flatMap((r) => [...scoreQueries(r), alertQuery(r)]);
}

/** The CQ names diffwatch owns: a CQ on the database with this prefix and no current definition is dropped. */
export const ROLLUP_QUERY_PREFIX = 'diffwatch_';

function selectInto(database: string, q: RollupQuery, timeRange?: string): string {
  const db = f(database);
  const where = [q.where, timeRange].filter((w) => w !== undefined);
  return `SELECT ${q.select.join(', ')} INTO ${db}.${f(ROLLUP_POLICY[q.resolution])}.${f(q.into)} `
    + `FROM ${db}.${f(RETENTION_POLICIES.raw)}.${f(q.from)}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} GROUP BY time(${q.resolution}), *`;
}

/** `CREATE CONTINUOUS QUERY ... RESAMPLE EVERY .. FOR .. BEGIN SELECT ... INTO ... END`. */
export function createCqStatement(database: string, q: RollupQuery): string {
  const { every, for: span } = RESAMPLE[q.resolution];
  return `CREATE CONTINUOUS QUERY ${f(q.name)} ON ${f(database)} RESAMPLE EVERY ${every} FOR ${span} BEGIN ${selectInto(database, q)} END`;
}

/**
 * The CQ's SELECT ... INTO run once over [fromMs, toMs): how InfluxDB documents backfilling a
 * roll-up for data written before its CQ existed (or older than the CQ's resample span).
 */
export function backfillStatement(database: string, q: RollupQuery, fromMs: number, toMs: number): string {
  return selectInto(database, q, `time >= ${Math.trunc(fromMs)}ms AND time < ${Math.trunc(toMs)}ms`);
}

/**
 * The form `SHOW CONTINUOUS QUERIES` prints a definition in, for comparison: InfluxDB
 * re-quotes identifiers only where needed, so quotes and runs of spaces are dropped on both sides.
 */
export function normaliseCq(text: string): string {
  return text.replace(/"/g, '').replace(/\s+/g, ' ').trim();
}
