/**
 * The service's statistical baseline as a NAB detector: robust z of each window's newest point
 * against the points before the window (`model/baselineScorer.ts`, service defaults). It has
 * nothing to train; NAB's probationary period is simply its warm-up.
 *
 * Calibrated (the default), each z goes through the service's detector state
 * (`detect/thresholdState.ts`): a Numenta-style likelihood, written as the non-saturating
 * `boundedSurprise`, and a SPOT open level for the alerts. Raw z differ in scale from file to
 * file, and NAB sweeps ONE threshold over all files, so the raw form is there for comparison.
 */
import { DEFAULTS } from '../../../config/schema.ts';
import { THRESHOLD_STATE_DEFAULTS, type ThresholdStateConfig } from '../../../detect/thresholdState.ts';
import { createBaselineScorer } from '../../../model/baselineScorer.ts';
import { lifecycleAlertRule } from './alertRule.ts';
import { boundedScore } from './boundedScore.ts';
import { flatParams } from './flatParams.ts';
import { thresholdStateJudge } from './thresholdStateJudge.ts';
import type { FileDetector, NabDetector } from './types.ts';

export interface BaselineDetectorOptions {
  /** Default `baseline`, or `baselineRaw` when not calibrated. */
  name?: string;
  /** Calibrate z into a likelihood and alert on SPOT's level. Default true. */
  calibrated?: boolean;
  /** Overrides of the service's detector-state defaults (calibrated only). */
  thresholds?: Partial<ThresholdStateConfig>;
  /** Points per window L. Default the service's `stream.windowLength`. */
  windowLength?: number;
  /** Points of history per channel. Default the service's `scorer.baseline.historyLength`. */
  historyLength?: number;
  /** Points of history before a score counts. Default the service's `scorer.baseline.minHistory`. */
  minHistory?: number;
  /** Uncalibrated only: alert open level on z. Default the service's `scorer.threshold`. */
  alertZ?: number;
  /** Uncalibrated only: alert keep level on z. Default two thirds of `alertZ`. */
  keepZ?: number;
}

export function baselineDetector(opts: BaselineDetectorOptions = {}): NabDetector {
  const calibrated = opts.calibrated ?? true;
  const name = opts.name ?? (calibrated ? 'baseline' : 'baselineRaw');
  const windowLength = opts.windowLength ?? DEFAULTS.stream.windowLength;
  const historyLength = opts.historyLength ?? DEFAULTS.scorer.baseline.historyLength;
  const minHistory = opts.minHistory ?? DEFAULTS.scorer.baseline.minHistory;
  const alertZ = opts.alertZ ?? DEFAULTS.detect.threshold.fixedThreshold;
  const keepZ = opts.keepZ ?? (2 * alertZ) / 3;
  const thresholds = opts.thresholds ?? {};
  return {
    name,
    summary: calibrated
      ? 'the service\'s robust z baseline, calibrated by the service\'s detector state (likelihood + SPOT)'
      : 'the service\'s robust z baseline, uncalibrated (score z/(1+z), fixed alert level)',
    windowLength,
    params: calibrated
      ? { windowLength, historyLength, minHistory, calibrated, ...flatParams({ ...THRESHOLD_STATE_DEFAULTS, ...thresholds }), anomalyScore: 'boundedSurprise(surprise)' }
      : { windowLength, historyLength, minHistory, calibrated, alertZ, keepZ, anomalyScore: 'z/(1+z)' },
    async open(): Promise<FileDetector> {
      const scorer = createBaselineScorer({ historyLength, minHistory });
      const alert = lifecycleAlertRule({ threshold: alertZ, keepLevel: keepZ, kind: name, modelVersion: scorer.version });
      return {
        scorer,
        judge: calibrated ? thresholdStateJudge(thresholds, alert) : (w, s) => ({ anomalyScore: boundedScore(s.score), alertOnset: alert(w, s) }),
        alertThreshold: calibrated ? Number.NaN : boundedScore(alertZ),
        close: async () => {},
      };
    },
  };
}
