/**
 * NAB's `windowedGaussian` detector, re-implemented as a streaming `Scorer`
 * (numenta/NAB `nab/detectors/gaussian/windowedGaussian_detector.py`, v1.1):
 *
 * - each point is judged against the mean and the population standard deviation (`numpy.std`)
 *   of the points before it, before it joins them; the very first point scores 0;
 * - the first `windowSize` points join one by one, refitting after each;
 * - after that, points gather in a step buffer, and every `stepSize` points the window drops
 *   its `stepSize` oldest points, takes the buffer, and is refitted;
 * - a standard deviation of 0 becomes 1e-6.
 *
 * NAB's score is `1 - Q(z)` with z = |x - mean| / std, printed with 3 decimals. We keep z and
 * write `z / (1 + z)` instead (see `boundedScore`): the same order, so the same NAB sweep, but
 * without the ties of a saturated tail.
 */
import { DEFAULTS } from '../../../config/schema.ts';
import type { Scorer, Window, WindowScore } from '../../../types.ts';
import { lifecycleAlertRule } from './alertRule.ts';
import { boundedScore } from './boundedScore.ts';
import type { FileDetector, NabDetector } from './types.ts';

/** NAB's tuned values: `self.windowSize = 6400`, `self.stepSize = 100`. */
export const NAB_WINDOW_SIZE = 6400;
export const NAB_STEP_SIZE = 100;
/** NAB's floor for a constant window. */
const STD_FLOOR = 0.000001;

/** One channel's sliding Gaussian, exactly as `WindowedGaussianDetector` keeps it. */
export class WindowedGaussian {
  private data: number[] = [];
  private stepBuffer: number[] = [];
  private mean = 0;
  private std = 1;

  constructor(readonly windowSize: number, readonly stepSize: number) {}

  /** Points the fit is made of. */
  get count(): number {
    return this.data.length;
  }

  /** z of `x` against the current fit, then `x` joins the window (NAB's `handleRecord`). */
  next(x: number): number {
    const z = this.data.length > 0 ? Math.abs(x - this.mean) / this.std : 0;
    if (this.data.length < this.windowSize) {
      this.data.push(x);
      this.refit();
    } else {
      this.stepBuffer.push(x);
      if (this.stepBuffer.length === this.stepSize) {
        this.data = this.data.slice(this.stepSize).concat(this.stepBuffer);
        this.stepBuffer = [];
        this.refit();
      }
    }
    return z;
  }

  private refit(): void {
    const n = this.data.length;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += this.data[i];
    const mean = sum / n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (this.data[i] - mean) ** 2;
    this.mean = mean;
    this.std = Math.sqrt(ss / n) || STD_FLOOR; // numpy.std: population (ddof=0)
  }
}

interface EntityState {
  channels: WindowedGaussian[];
  /** z of the last points, newest last, so that a window's pointScores can be filled. */
  recent: number[];
}

/**
 * A `Scorer` that feeds each point to its channel's `WindowedGaussian` once: an entity's first
 * window feeds all its points in order, each later window its newest point only, which is
 * every point when windows slide by one (the harness's hop). The window score is the largest
 * channel z of the newest point.
 */
export function createWindowedGaussianScorer(opts: { windowSize: number; stepSize: number; minHistory: number }): Scorer {
  const entities = new Map<string, EntityState>();
  const scoreOne = (w: Window): WindowScore => {
    const C = w.channels.length;
    let e = entities.get(w.entityId);
    const first = e === undefined;
    if (!e) entities.set(w.entityId, (e = { channels: w.channels.map(() => new WindowedGaussian(opts.windowSize, opts.stepSize)), recent: [] }));
    const newest = new Float64Array(C);
    for (let i = first ? 0 : w.length - 1; i < w.length; i++) {
      let max = 0;
      for (let c = 0; c < C; c++) {
        const x = w.values[i * C + c]; // [L, C]
        const z = Number.isNaN(x) ? 0 : e.channels[c].next(x);
        if (z > max) max = z;
        if (i === w.length - 1) newest[c] = z;
      }
      e.recent.push(max);
    }
    if (e.recent.length > w.length) e.recent.splice(0, e.recent.length - w.length);
    const pointScores = new Float32Array(w.length);
    pointScores.set(e.recent, w.length - e.recent.length);
    const total = newest.reduce((a, b) => a + b, 0);
    return {
      pointScores,
      channelContributions: Float32Array.from(newest, (z) => (total > 0 ? z / total : 0)),
      score: e.recent[e.recent.length - 1],
      warmup: Math.min(...e.channels.map((g) => g.count)) < opts.minHistory,
    };
  };
  return { name: 'windowedGaussian', version: `windowedGaussian-${opts.windowSize}-${opts.stepSize}`, score: async (ws) => ws.map(scoreOne) };
}

export interface WindowedGaussianDetectorOptions {
  windowSize?: number;
  stepSize?: number;
  /** Points before its scores may alert (alerts only; NAB's scores start at once). Default the service's `scorer.baseline.minHistory`. */
  minHistory?: number;
  /** Alert open level on z. Default the service's `scorer.threshold`. */
  alertZ?: number;
  /** Alert keep level on z. Default two thirds of `alertZ`. */
  keepZ?: number;
}

export function windowedGaussianDetector(opts: WindowedGaussianDetectorOptions = {}): NabDetector {
  const windowSize = opts.windowSize ?? NAB_WINDOW_SIZE;
  const stepSize = opts.stepSize ?? NAB_STEP_SIZE;
  const minHistory = opts.minHistory ?? DEFAULTS.scorer.baseline.minHistory;
  const alertZ = opts.alertZ ?? DEFAULTS.detect.threshold.fixedThreshold;
  const keepZ = opts.keepZ ?? (2 * alertZ) / 3;
  return {
    name: 'windowedGaussian',
    summary: `NAB's windowedGaussian (z against a ${windowSize}-point sliding Gaussian, refitted every ${stepSize} points)`,
    // One point per window: the detector is pointwise, and every row gets its own window.
    windowLength: 1,
    params: { windowLength: 1, windowSize, stepSize, minHistory, alertZ, keepZ, anomalyScore: 'z/(1+z)' },
    async open(): Promise<FileDetector> {
      const scorer = createWindowedGaussianScorer({ windowSize, stepSize, minHistory });
      const alert = lifecycleAlertRule({ threshold: alertZ, keepLevel: keepZ, kind: 'windowedGaussian', modelVersion: scorer.version });
      return {
        scorer,
        judge: (w, s) => ({ anomalyScore: boundedScore(s.score), alertOnset: alert(w, s) }),
        alertThreshold: boundedScore(alertZ),
        close: async () => {},
      };
    },
  };
}
