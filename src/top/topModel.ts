/**
 * What `diffwatch top` shows, derived from plain data and nothing else: one row per entity
 * from the latest `scores` point and the latest `alerts` event of each (entity, kind), and the
 * pipeline's throughput from two consecutive `/metrics` scrapes. No I/O and no terminal here, so
 * every figure on screen is unit-tested (test/unit/top/topModel.test.ts).
 *
 * @example
 * const rows = entityRows(latestScores, latestAlerts);
 * const { readingsPerSecond } = throughput(previousScrape, scrape); // null on the first scrape
 */

/** The latest `scores` point of one entity (influxPoints.ts SCORE_FIELDS and SCORE_TAGS). */
export interface LatestScore {
  entity: string;
  /** Event time of the window (its end), epoch ms. */
  time: number;
  /** ScoreState: warmup, gap, normal or anomaly. */
  state: string;
  /** Absent while the entity has no model (cold start) or the window has a gap. */
  score?: number;
  threshold?: number;
  /** `none` while the entity waits for its cold-start model. */
  modelVersion: string;
}

/** The latest `alerts` event of one (entity, kind): at most one incident is open per pair. */
export interface LatestAlert {
  entity: string;
  kind: string;
  /** Event time of the window that raised the event, epoch ms. */
  time: number;
  /** open, ongoing or resolved. */
  state: string;
  severity: string;
  /** When the incident opened, epoch ms; absent on points written without it. */
  startTime?: number;
}

export type EntityState = 'anomaly' | 'cold start' | 'warm-up' | 'gap' | 'normal' | 'unknown';

export interface OpenAlert {
  kind: string;
  severity: string;
  /** epoch ms, or null when unknown. */
  since: number | null;
}

export interface EntityRow {
  entity: string;
  state: EntityState;
  score: number | null;
  threshold: number | null;
  /** null when only alerts were found for the entity. */
  modelVersion: string | null;
  /** Event time of the latest window, epoch ms; null when only alerts were found. */
  windowTime: number | null;
  openAlerts: OpenAlert[];
}

/** The model version a cold-starting entity is scored with: none yet (ColdStartManager). */
export const NO_MODEL = 'none';

/**
 * The state shown for an entity. The alert decision wins, as in `scoreState`; then an entity
 * with no model yet is in its cold start (it collects windows to train on), whatever its
 * detector says; then the point's own state.
 */
export function displayState(latest: Pick<LatestScore, 'state' | 'modelVersion'>): EntityState {
  if (latest.state === 'anomaly') return 'anomaly';
  if (latest.modelVersion === NO_MODEL) return 'cold start';
  if (latest.state === 'warmup') return 'warm-up';
  if (latest.state === 'gap') return 'gap';
  if (latest.state === 'normal') return 'normal';
  return 'unknown';
}

/** An event that is not `resolved` is the latest word on an incident still open. */
export const isOpen = (a: LatestAlert): boolean => a.state !== 'resolved';

const severityRank: Record<string, number> = { critical: 0, warning: 1, info: 2 };

/** Needs attention first: anomalies, then entities with open alerts, then by name. */
function attentionOrder(a: EntityRow, b: EntityRow): number {
  const rank = (r: EntityRow) => (r.state === 'anomaly' ? 0 : r.openAlerts.length > 0 ? 1 : 2);
  return rank(a) - rank(b) || (a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : 0);
}

/** One row per entity seen in either input, in attention order. */
export function entityRows(scores: readonly LatestScore[], alerts: readonly LatestAlert[]): EntityRow[] {
  const open = new Map<string, OpenAlert[]>();
  for (const a of alerts) {
    if (!isOpen(a)) continue;
    const list = open.get(a.entity) ?? [];
    list.push({ kind: a.kind, severity: a.severity, since: a.startTime ?? null });
    open.set(a.entity, list);
  }
  for (const list of open.values()) list.sort((x, y) => (severityRank[x.severity] ?? 9) - (severityRank[y.severity] ?? 9) || (x.kind < y.kind ? -1 : 1));
  const rows = new Map<string, EntityRow>();
  for (const s of scores) {
    rows.set(s.entity, {
      entity: s.entity,
      state: displayState(s),
      score: s.score ?? null,
      threshold: s.threshold ?? null,
      modelVersion: s.modelVersion,
      windowTime: s.time,
      openAlerts: open.get(s.entity) ?? [],
    });
  }
  for (const [entity, list] of open) {
    if (!rows.has(entity)) rows.set(entity, { entity, state: 'unknown', score: null, threshold: null, modelVersion: null, windowTime: null, openAlerts: list });
  }
  return [...rows.values()].sort(attentionOrder);
}

/** The figures of one `/metrics` scrape that `top` uses (metrics.ts METRICS), summed over labels. */
export interface OpsScrape {
  /** Wall-clock time of the scrape, epoch ms. */
  at: number;
  /** diffwatch_readings_decoded_total. */
  readings: number;
  /** diffwatch_windows_scored_total. */
  windows: number;
  /** diffwatch_consumer_lag_messages over the owned partitions; null before the first refresh. */
  lag: number | null;
}

/**
 * Per-second rate of a counter between two scrapes `dtMs` apart; null without an earlier scrape,
 * when no time passed, or when the counter went down (the service restarted: a new process
 * counts from 0, so the difference means nothing).
 */
export function ratePerSecond(previous: number | undefined, current: number, dtMs: number): number | null {
  if (previous === undefined || !(dtMs > 0) || current < previous) return null;
  return ((current - previous) * 1_000) / dtMs;
}

export interface Throughput {
  readingsPerSecond: number | null;
  windowsPerSecond: number | null;
}

/** readings/s and windows/s from two consecutive scrapes (null on the first one). */
export function throughput(previous: OpsScrape | undefined, current: OpsScrape): Throughput {
  const dt = previous ? current.at - previous.at : 0;
  return {
    readingsPerSecond: ratePerSecond(previous?.readings, current.readings, dt),
    windowsPerSecond: ratePerSecond(previous?.windows, current.windows, dt),
  };
}

/** What /readyz answered: 200 ready, 503 not ready with the failing checks. */
export interface Readiness {
  ready: boolean;
  notReady: string[];
}

export type OpsView =
  | { reachable: true; url: string; throughput: Throughput; lag: number | null; readiness: Readiness | null }
  | { reachable: false; url: string | null; error: string };

export type InfluxView = { ok: true; rows: EntityRow[] } | { ok: false; error: string };

/** Everything one screen shows. */
export interface Frame {
  /** Wall-clock time of the refresh, epoch ms. */
  at: number;
  influxUrl: string;
  database: string;
  influx: InfluxView;
  ops: OpsView;
}

/**
 * A score or threshold as shown: 2 decimals below 10,000, else 4 significant digits in
 * exponent form; `-` when absent. The integration test formats InfluxDB's values with it.
 */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  return Math.abs(v) < 10_000 ? v.toFixed(2) : v.toExponential(3);
}

/** A rate as shown: 1 decimal, `-` when unknown. */
export const formatRate = (v: number | null): string => (v === null ? '-' : v.toFixed(1));

/** Epoch ms as `YYYY-MM-DD HH:MM:SS` UTC, `-` when absent (window times are event times). */
export const formatTime = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().slice(0, 19).replace('T', ' '));
