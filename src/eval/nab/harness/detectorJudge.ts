/**
 * A judge that is the service's detector itself (`detect/detector.ts`, `createDetector`): the
 * window's score goes through exactly the code `diffwatch run` runs, with the judge, warm-up,
 * thresholds and alert lifecycle of `detect`. NAB's `anomaly_score` is the detector's bounded
 * `likelihood`; an alert onset is a model `open` event that starts a new incident.
 *
 * The rules (flatline, out-of-range, silence) are turned off: NAB scores one detector's evidence,
 * and a rule alert is not the model's.
 *
 * @example
 * const judge = detectorJudge(onsetDetectConfig(ONSET_SCORER_DEFAULTS), version);
 * const { anomalyScore, alertOnset } = judge(window, windowScore);
 */
import type { DetectConfig } from '../../../config/schema.ts';
import type { ValidationQuantiles } from '../../../detect/calibration.ts';
import { createDetector, MODEL_ALERT_KIND } from '../../../detect/detector.ts';
import type { OnsetScorerConfig } from '../../../detect/onsetScorer.ts';
import { DEFAULTS } from '../../../config/schema.ts';
import type { Judge } from './types.ts';

/** The service's detect config with the onset judge and `onset`'s settings; no warm-up (NAB's probation is not scored anyway). */
export function onsetDetectConfig(onset: OnsetScorerConfig): DetectConfig {
  const d = structuredClone(DEFAULTS.detect) as DetectConfig;
  return { ...d, judge: 'onset', onsetScorer: structuredClone(onset) as OnsetScorerConfig, threshold: { ...d.threshold, warmupWindows: 0 } };
}

export function detectorJudge(detect: DetectConfig, modelVersion: string, prior?: ValidationQuantiles): Judge {
  const rules = { ...detect.rules, flatline: { ...detect.rules.flatline, enabled: false }, outOfRange: { limits: {} }, silence: { ...detect.rules.silence, enabled: false } };
  const detector = createDetector({ ...detect, rules }, { prior: () => prior });
  const meta = { scorer: 'diffusion', modelVersion };
  return (w, s) => {
    // Nothing is persisted here: snapshots (takeDirty) are never taken, so they cost nothing.
    const { scored, events } = detector.update([w], [s], meta);
    const likelihood = scored[0].likelihood;
    return {
      anomalyScore: likelihood !== undefined && Number.isFinite(likelihood) ? likelihood : 0,
      alertOnset: events.some((e) => e.kind === MODEL_ALERT_KIND && e.state === 'open' && e.startTime === e.endTime),
    };
  };
}
