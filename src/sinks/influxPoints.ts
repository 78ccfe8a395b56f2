/**
 * The InfluxDB point shapes of diffwatch, declared once. Queries, dashboards and tests use
 * these names; nothing else spells a measurement, tag or field.
 *
 * Timestamps are the window's (or event's) end time in epoch ms. InfluxDB overwrites a point
 * with the same measurement, tag set and timestamp, so a retried or replayed write is idempotent.
 *
 * @example
 * await writer.write([scorePoint(sw), ...events.map(alertPoint)]);
 */
import type { IPoint } from 'influx';
import type { AnomalyEvent, ScoredWindow } from '../types.ts';

export const SCORES_MEASUREMENT = 'scores';
export const ALERTS_MEASUREMENT = 'alerts';

export const SCORE_TAGS = { entity: 'entity', modelVersion: 'model_version', scorer: 'scorer' } as const;
export const SCORE_FIELDS = {
  /** float: the window score. */
  score: 'score',
  /** float: the threshold the score was compared with. */
  threshold: 'threshold',
  /** bool: the alert decision. */
  anomaly: 'anomaly',
  /** string: one of ScoreState. */
  state: 'state',
  /** float in [0, 1]: the calibrated anomaly likelihood (absent while warming up). */
  likelihood: 'likelihood',
  /** float: -log10 of the calibrated tail probability; orders the top scores where the likelihood saturates. */
  surprise: 'surprise',
} as const;
/** float fields `contrib_<channel>`: the channel's share of the window's evidence. */
export const CONTRIB_FIELD_PREFIX = 'contrib_';

export const ALERT_TAGS = { entity: 'entity', kind: 'kind', state: 'state', severity: 'severity' } as const;
export const ALERT_FIELDS = {
  eventId: 'event_id',
  score: 'score',
  threshold: 'threshold',
  /** integer: epoch ms when the alert opened. */
  startTime: 'start_time',
  modelVersion: 'model_version',
  /** string: the channel with the largest share; absent when no contributions were given. */
  topChannel: 'top_channel',
} as const;

export type ScoreState = 'warmup' | 'gap' | 'normal' | 'anomaly';

/**
 * The alert decision wins; otherwise a gap (the window cannot be called normal) is reported
 * before warm-up, because it describes the data rather than the scorer.
 */
export function scoreState(sw: ScoredWindow): ScoreState {
  if (sw.isAnomaly) return 'anomaly';
  if (sw.window.hasGap) return 'gap';
  if (sw.score.warmup || sw.detectorState === 'warmup') return 'warmup';
  return 'normal';
}

/** Line protocol has no NaN or Infinity: a non-finite number is left out rather than failing the point. */
function setFinite(fields: Record<string, unknown>, key: string, value: number): void {
  if (Number.isFinite(value)) fields[key] = value;
}

/** The `scores` point of one scored window. */
export function scorePoint(sw: ScoredWindow): IPoint {
  const fields: Record<string, unknown> = {
    [SCORE_FIELDS.anomaly]: sw.isAnomaly,
    [SCORE_FIELDS.state]: scoreState(sw),
  };
  setFinite(fields, SCORE_FIELDS.score, sw.score.score);
  setFinite(fields, SCORE_FIELDS.threshold, sw.threshold);
  if (sw.likelihood !== undefined) setFinite(fields, SCORE_FIELDS.likelihood, sw.likelihood);
  if (sw.surprise !== undefined) setFinite(fields, SCORE_FIELDS.surprise, sw.surprise);
  const { channels } = sw.window;
  const shares = sw.score.channelContributions;
  if (shares.length === channels.length) {
    channels.forEach((channel, c) => setFinite(fields, CONTRIB_FIELD_PREFIX + channel, shares[c]));
  }
  return {
    measurement: SCORES_MEASUREMENT,
    tags: {
      [SCORE_TAGS.entity]: sw.window.entityId,
      [SCORE_TAGS.modelVersion]: sw.modelVersion,
      [SCORE_TAGS.scorer]: sw.scorer,
    },
    fields,
    timestamp: sw.window.endTime,
  };
}

function topChannel(e: AnomalyEvent): string | undefined {
  let best: { channel: string; share: number } | undefined;
  for (const c of e.contributions) if (!best || c.share > best.share) best = c;
  return best?.channel;
}

/** The `alerts` point of one alert event (open, ongoing or resolved). */
export function alertPoint(e: AnomalyEvent): IPoint {
  const fields: Record<string, unknown> = {
    [ALERT_FIELDS.eventId]: e.eventId,
    // bigint: written as an InfluxDB integer (see lineProtocol.ts).
    [ALERT_FIELDS.startTime]: BigInt(Math.trunc(e.startTime)),
    [ALERT_FIELDS.modelVersion]: e.modelVersion,
  };
  const top = topChannel(e);
  if (top !== undefined) fields[ALERT_FIELDS.topChannel] = top;
  setFinite(fields, ALERT_FIELDS.score, e.score);
  setFinite(fields, ALERT_FIELDS.threshold, e.threshold);
  return {
    measurement: ALERTS_MEASUREMENT,
    tags: {
      [ALERT_TAGS.entity]: e.entityId,
      [ALERT_TAGS.kind]: e.kind,
      [ALERT_TAGS.state]: e.state,
      [ALERT_TAGS.severity]: e.severity,
    },
    fields,
    timestamp: e.endTime,
  };
}
