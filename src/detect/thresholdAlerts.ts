/**
 * The simple alert rule of the data plane: a window whose score is above a fixed threshold
 * is anomalous; an entity's incident opens on the first anomalous window and resolves on the
 * first normal one after it. Warm-up and gap windows never open an incident.
 *
 * Alert and event ids are deterministic (entity, kind, start time, model version), so a replay
 * or a restart that re-scores the same windows produces the same ids.
 */
import { alertId, eventId } from '../sinks/alertId.ts';
import type { AnomalyEvent, ScoredWindow, Window, WindowScore } from '../types.ts';

export const SCORE_ALERT_KIND = 'score';

interface OpenIncident {
  alertId: string;
  startTime: number;
  peak: number;
}

export interface ThresholdAlerter {
  /** Decide each window and return the state-change events, in window order. */
  update(windows: readonly Window[], scores: readonly WindowScore[], meta: { scorer: string; modelVersion: string }): { scored: ScoredWindow[]; events: AnomalyEvent[] };
}

function severity(score: number, threshold: number): AnomalyEvent['severity'] {
  if (score >= threshold * 2) return 'critical';
  if (score >= threshold * 1.25) return 'warning';
  return 'info';
}

function contributions(w: Window, s: WindowScore, topK: number): AnomalyEvent['contributions'] {
  return Array.from(s.channelContributions, (share, i) => ({ channel: w.channels[i], share }))
    .sort((a, b) => b.share - a.share)
    .slice(0, topK);
}

export function createThresholdAlerter(opts: { threshold: number; topK?: number; now?: () => number }): ThresholdAlerter {
  const open = new Map<string, OpenIncident>();
  const topK = opts.topK ?? 3;
  const now = opts.now ?? Date.now;
  return {
    update(windows, scores, meta) {
      const scored: ScoredWindow[] = [];
      const events: AnomalyEvent[] = [];
      windows.forEach((w, i) => {
        const s = scores[i];
        const isAnomaly = !s.warmup && !w.hasGap && s.score > opts.threshold;
        scored.push({ window: w, score: s, threshold: opts.threshold, isAnomaly, scorer: meta.scorer, modelVersion: meta.modelVersion });
        const incident = open.get(w.entityId);
        const base = { entityId: w.entityId, kind: SCORE_ALERT_KIND, threshold: opts.threshold, modelVersion: meta.modelVersion, detectedAt: now() };
        if (isAnomaly && !incident) {
          const id = alertId(w.entityId, SCORE_ALERT_KIND, w.endTime, meta.modelVersion);
          open.set(w.entityId, { alertId: id, startTime: w.endTime, peak: s.score });
          events.push({ ...base, eventId: eventId(id, 'open', w.endTime), state: 'open', severity: severity(s.score, opts.threshold), startTime: w.endTime, endTime: w.endTime, score: s.score, contributions: contributions(w, s, topK) });
        } else if (isAnomaly && incident) {
          incident.peak = Math.max(incident.peak, s.score);
        } else if (!isAnomaly && incident && !s.warmup) {
          open.delete(w.entityId);
          events.push({ ...base, eventId: eventId(incident.alertId, 'resolved', w.endTime), state: 'resolved', severity: severity(incident.peak, opts.threshold), startTime: incident.startTime, endTime: w.endTime, score: s.score, contributions: contributions(w, s, topK) });
        }
      });
      return { scored, events };
    },
  };
}
