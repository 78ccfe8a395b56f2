/**
 * A judge over the service's detector state (`detect/thresholdState.ts`): the calibrated
 * likelihood and SPOT's levels. NAB's `anomaly_score` is `boundedSurprise(surprise)`, which never
 * saturates; an alert opens on SPOT's levels through the given alert rule. Warm-up windows (too
 * little history), gap windows and non-finite scores neither feed the state nor score above 0.
 *
 * @example
 * const judge = thresholdStateJudge(THRESHOLD_STATE_DEFAULTS, lifecycleAlertRule({ ... }), model.manifest.validationScores);
 */
import { boundedSurprise, type ValidationQuantiles } from '../../../detect/calibration.ts';
import { createThresholdState, type ThresholdStateConfig } from '../../../detect/thresholdState.ts';
import type { AlertRule } from './alertRule.ts';
import type { Judge } from './types.ts';

export function thresholdStateJudge(thresholds: Partial<ThresholdStateConfig>, alert: AlertRule, prior?: ValidationQuantiles): Judge {
  const state = createThresholdState(thresholds, prior);
  return (w, s) => {
    if (s.warmup || w.hasGap || !Number.isFinite(s.score)) return { anomalyScore: 0, alertOnset: alert(w, { ...s, warmup: true }) };
    const d = state.update(s.score);
    const levels = d.state === 'warmup' || d.threshold === null ? undefined : { threshold: d.threshold, keepLevel: d.keepLevel ?? d.threshold, triggered: d.triggered };
    return { anomalyScore: boundedSurprise(d.surprise), alertOnset: alert(w, levels ? s : { ...s, warmup: true }, levels) };
  };
}
