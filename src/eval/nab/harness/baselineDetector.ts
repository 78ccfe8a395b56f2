/**
 * The service's statistical baseline as a NAB detector, configured as the service runs it by
 * default (`DEFAULTS`): robust z of each window's newest point against the points before the
 * window. It has nothing to train; NAB's probationary period is simply its warm-up.
 */
import { DEFAULTS } from '../../../config/schema.ts';
import { createBaselineScorer } from '../../../model/baselineScorer.ts';
import { lifecycleAlertRule } from './alertRule.ts';
import { boundedScore } from './boundedScore.ts';
import type { FileDetector, NabDetector } from './types.ts';

export interface BaselineDetectorOptions {
  /** Points per window L. Default the service's `stream.windowLength`. */
  windowLength?: number;
  /** Points of history per channel. Default the service's `scorer.baseline.historyLength`. */
  historyLength?: number;
  /** Points of history before a score may alert. Default the service's `scorer.baseline.minHistory`. */
  minHistory?: number;
  /** Alert open level on the robust z. Default the service's `scorer.threshold`. */
  alertZ?: number;
  /** Alert keep level on the robust z. Default two thirds of `alertZ`. */
  keepZ?: number;
}

export function baselineDetector(opts: BaselineDetectorOptions = {}): NabDetector {
  const windowLength = opts.windowLength ?? DEFAULTS.stream.windowLength;
  const historyLength = opts.historyLength ?? DEFAULTS.scorer.baseline.historyLength;
  const minHistory = opts.minHistory ?? DEFAULTS.scorer.baseline.minHistory;
  const alertZ = opts.alertZ ?? DEFAULTS.scorer.threshold;
  const keepZ = opts.keepZ ?? (2 * alertZ) / 3;
  return {
    name: 'baseline',
    summary: 'the service\'s robust z-score baseline (median/MAD over a bounded history), service defaults',
    windowLength,
    params: { windowLength, historyLength, minHistory, alertZ, keepZ, anomalyScore: 'z/(1+z)' },
    async open(): Promise<FileDetector> {
      const scorer = createBaselineScorer({ historyLength, minHistory });
      return {
        scorer,
        anomalyScore: (s) => boundedScore(s.score),
        alert: lifecycleAlertRule({ threshold: alertZ, keepLevel: keepZ, kind: 'baseline', modelVersion: scorer.version }),
        alertThreshold: boundedScore(alertZ),
        close: async () => {},
      };
    },
  };
}
