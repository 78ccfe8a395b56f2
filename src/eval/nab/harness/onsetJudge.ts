/**
 * A judge over the service's onset scorer (`detect/onsetScorer.ts`): each scored window becomes
 * rank-calibrated, onset-gated evidence, NAB's `anomaly_score` is its bounded form, and an alert
 * opens through the service's alert lifecycle at each onset the gate reports.
 *
 * The judge sees the stream only: the first window's older rows seed the value range (they are
 * rows ≤ that window's newest row), and nothing of the file beyond the current window is read.
 */
import { OnsetScorer, type OnsetScorerConfig } from '../../../detect/onsetScorer.ts';
import type { AlertRule } from './alertRule.ts';
import type { Judge } from './types.ts';

/**
 * @example
 * const judge = onsetJudge(ONSET_SCORER_DEFAULTS, lifecycleAlertRule({ threshold: Infinity, keepLevel: Infinity, kind: 'diffusion', modelVersion }));
 * const { anomalyScore, alertOnset } = judge(window, windowScore);
 */
export function onsetJudge(config: OnsetScorerConfig, alert: AlertRule): Judge {
  const scorer = new OnsetScorer(config);
  const level = config.gate.level;
  let started = false;
  return (w, s) => {
    const C = w.channels.length;
    if (!started) {
      // Rows 0..L-2 of the first window: older than its newest row, so causal.
      for (let i = 0; i < w.length - 1; i++) scorer.observe(w.values.subarray(i * C, (i + 1) * C));
      started = true;
    }
    if (s.warmup || w.hasGap || !Number.isFinite(s.score)) return { anomalyScore: 0, alertOnset: alert(w, { ...s, warmup: true }) };
    const d = scorer.update(s.pointScores, w.values.subarray((w.length - 1) * C, w.length * C));
    // The lifecycle sees the gated evidence against the gate's level: an incident opens at an
    // onset and resolves once the evidence has stayed below the level for its quiet windows.
    const levels = { threshold: level, keepLevel: level, triggered: d.onset };
    return { anomalyScore: d.score, alertOnset: alert(w, { ...s, score: d.gated }, levels) };
  };
}
