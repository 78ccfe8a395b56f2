/**
 * A detector's own streaming alerts, decided by the service's alert lifecycle
 * (`detect/alertLifecycle.ts`: open level, keep level with hysteresis, resolution after quiet
 * windows, cooldown), with its default options: nothing here is fitted to NAB's labels.
 */
import { createAlertLifecycle, type AlertLifecycleOptions } from '../../../detect/alertLifecycle.ts';
import type { Window, WindowScore } from '../../../types.ts';

/** Levels decided elsewhere for this window (an adaptive threshold): they replace the fixed ones. */
export interface WindowLevels {
  threshold: number;
  keepLevel: number;
  triggered: boolean;
}

/** @returns true when a new incident opens at this window. */
export type AlertRule = (window: Window, score: WindowScore, levels?: WindowLevels) => boolean;

export interface LifecycleAlertOptions {
  /** Fixed open level on the window score (the detector's z units), unless a window brings its levels. */
  threshold: number;
  /** Fixed keep level, <= threshold: an open alert holds while the score stays at or above it. */
  keepLevel: number;
  /** Alert kind, e.g. the detector name. */
  kind: string;
  modelVersion: string;
  lifecycle?: Partial<AlertLifecycleOptions>;
}

/**
 * @returns a rule that is true at the window where a NEW incident opens. A re-open within the
 *          cooldown continues the earlier incident (same alert id, earlier start), so it is no onset.
 * @example const alert = lifecycleAlertRule({ threshold: 6, keepLevel: 4, kind: 'baseline', modelVersion: 'baseline-v1' });
 */
export function lifecycleAlertRule(opts: LifecycleAlertOptions): AlertRule {
  const lc = createAlertLifecycle(opts.lifecycle);
  return (w, s, levels) => {
    const threshold = levels?.threshold ?? opts.threshold;
    const keepLevel = Math.min(levels?.keepLevel ?? opts.keepLevel, threshold);
    const judgeable = !s.warmup && !w.hasGap && Number.isFinite(s.score) && threshold > 0 && Number.isFinite(keepLevel);
    const events = lc.update({
      entityId: w.entityId,
      kind: opts.kind,
      endTime: w.endTime,
      channels: w.channels,
      modelVersion: opts.modelVersion,
      warmup: !judgeable,
      triggered: judgeable && (levels?.triggered ?? s.score >= threshold),
      score: judgeable ? s.score : 0,
      threshold: judgeable ? threshold : 1,
      keepLevel: judgeable ? keepLevel : 0,
      contributions: s.channelContributions,
    });
    return events.some((e) => e.state === 'open' && e.startTime === e.endTime);
  };
}
