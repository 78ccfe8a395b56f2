/**
 * Calibration of raw scores into an anomaly likelihood, per entity, after Numenta's anomaly
 * likelihood (numenta/nupic `algorithms/anomaly_likelihood.py`; Ahmad et al., "Unsupervised
 * real-time anomaly detection for streaming data", Neurocomputing 2017):
 *
 *   s = log(1 + score / scale)                  transformed score (tames heavy tails)
 *   z = (mean_short(s) - mean_long) / std_long    mean_long, std_long: of mean_short over a long horizon
 *   likelihood = 1 - Q(z)                         Q: the Gaussian tail
 *
 * Differences from Numenta, and why:
 * - One-sided: a short-term mean below the long-term one gives a likelihood below 0.5. Numenta
 *   reflects it to the upper tail, but a fall of anomaly scores is not an anomaly.
 * - The long horizon is an exponentially weighted mean and variance (2 numbers, O(1) per call)
 *   instead of a re-estimation over 8,640 stored scores every 100 records.
 * - Besides `likelihood` and NAB's `logLikelihood` (both reach 1.0 exactly once Q(z) is below
 *   the float64 resolution, which ties the top scores in a threshold sweep), `surprise` =
 *   -log10 Q(z) is computed in log space and never saturates.
 */
import { ConfigError, ModelError } from '../errors.ts';

export interface CalibrationConfig {
  /** Scores averaged for the short-term mean (Numenta's averagingWindow). */
  shortWindow: number;
  /** Horizon, in scores, of the long-term mean and variance (the EW weight is 1 / longWindow). */
  longWindow: number;
  /** Scores needed before the likelihood means anything, when there is no prior. */
  minHistory: number;
  /** Floor of std_long, in transformed units: a near-constant history must not make noise look anomalous. */
  minStd: number;
  /** Raw-score unit of the transform; 'auto': the prior's p50, else the median of the first minHistory scores. */
  scale: number | 'auto';
}

export const CALIBRATION_DEFAULTS: Readonly<CalibrationConfig> = Object.freeze({
  shortWindow: 10,
  longWindow: 2_000,
  minHistory: 100,
  minStd: 0.01,
  scale: 'auto',
});

/** Quantiles of the model's raw scores on validation data, as a checkpoint stores them. */
export interface ValidationQuantiles {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export interface CalibrationSnapshot {
  config: CalibrationConfig;
  scale: number | null;
  /** Raw scores held until the 'auto' scale is known. */
  pending: number[];
  short: number[];
  head: number;
  sum: number;
  mean: number;
  variance: number;
  weight: number;
}

/**
 * @example
 * const cal = new Calibration(CALIBRATION_DEFAULTS, checkpoint.validationQuantiles);
 * const z = cal.update(score); // then likelihoodOf(z), logLikelihoodOf(z), surpriseOf(z)
 */
export class Calibration {
  private scale: number;
  private pending: Float64Array;
  private pendingCount = 0;
  private readonly short: Float64Array;
  private head = 0;
  private count = 0;
  private sum = 0;
  private mean = 0;
  private variance = 0;
  /** Effective number of scores behind mean and variance, capped at longWindow. */
  private weight = 0;

  constructor(readonly config: CalibrationConfig, prior?: ValidationQuantiles) {
    validateCalibrationConfig(config);
    this.short = new Float64Array(config.shortWindow);
    this.scale = config.scale === 'auto' ? Number.NaN : config.scale;
    if (prior) {
      if (Number.isNaN(this.scale)) this.scale = prior.p50 > 0 ? prior.p50 : 1;
      const { mean, variance } = transformedMoments(prior, this.scale);
      // The prior counts as a full horizon; live scores replace it at the long-horizon rate.
      this.mean = mean;
      this.variance = variance;
      this.weight = config.longWindow;
    }
    this.pending = new Float64Array(Number.isNaN(this.scale) ? config.minHistory : 0);
  }

  /** True once the long-horizon statistics come from a prior or from enough scores. */
  get ready(): boolean {
    return this.weight >= Math.min(this.config.minHistory, this.config.longWindow);
  }

  /**
   * Takes one raw score; returns z, the short-term mean's deviation from the long-term one in
   * long-term standard deviations (0 until ready). The long horizon then absorbs the score.
   */
  update(raw: number): number {
    if (Number.isNaN(this.scale)) {
      this.pending[this.pendingCount++] = raw;
      if (this.pendingCount === this.pending.length) this.resolveScale();
      return 0;
    }
    return this.push(raw);
  }

  private push(raw: number): number {
    const shortMean = this.pushShort(Math.sign(raw) * Math.log1p(Math.abs(raw) / this.scale));
    const z = this.ready ? (shortMean - this.mean) / Math.max(Math.sqrt(this.variance), this.config.minStd) : 0;
    // EW mean and variance (West 1979); with weight < longWindow this is the exact running mean and variance.
    this.weight = Math.min(this.weight + 1, this.config.longWindow);
    const alpha = 1 / this.weight;
    const d = shortMean - this.mean;
    this.mean += alpha * d;
    this.variance = (1 - alpha) * (this.variance + alpha * d * d);
    return z;
  }

  private pushShort(s: number): number {
    const w = this.short.length;
    if (this.count === w) this.sum -= this.short[this.head];
    else this.count++;
    this.short[this.head] = s;
    this.head = (this.head + 1) % w;
    this.sum += s;
    if (this.head === 0) {
      // A running sum drifts by rounding; recompute it once per lap (amortised O(1)).
      this.sum = 0;
      for (let i = 0; i < this.count; i++) this.sum += this.short[i];
    }
    return this.sum / this.count;
  }

  private resolveScale(): void {
    const sorted = this.pending.slice().map(Math.abs).sort();
    const median = sorted[sorted.length >> 1];
    this.scale = median > 0 ? median : 1;
    const held = this.pending;
    this.pending = new Float64Array(0);
    for (let i = 0; i < held.length; i++) this.push(held[i]);
  }

  snapshot(): CalibrationSnapshot {
    return {
      config: { ...this.config },
      scale: Number.isNaN(this.scale) ? null : this.scale,
      pending: Array.from(this.pending.subarray(0, this.pendingCount)),
      short: Array.from(this.short.subarray(0, this.count)),
      head: this.head,
      sum: this.sum,
      mean: this.mean,
      variance: this.variance,
      weight: this.weight,
    };
  }

  static restore(s: CalibrationSnapshot): Calibration {
    const cal = new Calibration(s.config);
    if (s.scale !== null) {
      cal.scale = s.scale;
      cal.pending = new Float64Array(0);
    } else for (const x of s.pending) cal.pending[cal.pendingCount++] = x;
    cal.short.set(s.short);
    cal.count = s.short.length;
    cal.head = s.head;
    cal.sum = s.sum;
    cal.mean = s.mean;
    cal.variance = s.variance;
    cal.weight = s.weight;
    return cal;
  }
}

export function validateCalibrationConfig(cfg: CalibrationConfig, prefix = 'detect.calibration'): void {
  for (const key of ['shortWindow', 'longWindow', 'minHistory'] as const) {
    if (!(Number.isInteger(cfg[key]) && cfg[key] >= 1)) throw new ConfigError(`${prefix}.${key}`, `must be an integer >= 1, got ${cfg[key]}`);
  }
  if (!(cfg.minStd > 0)) throw new ConfigError(`${prefix}.minStd`, `must be > 0, got ${cfg.minStd}`);
  if (cfg.scale !== 'auto' && !(cfg.scale > 0)) throw new ConfigError(`${prefix}.scale`, `must be > 0 or 'auto', got ${cfg.scale}`);
}

const QUANTILE_KEYS = ['p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const;
const QUANTILE_LEVELS = [0.5, 0.9, 0.95, 0.99, 0.999, 1];

/**
 * Mean and variance of the transformed score under the validation quantiles: the quantile
 * function is taken piecewise linear through (0, p0), (0.5, p50), ..., (1, max), where p0
 * extends the [p50, p90] slope down (floored at 0 for non-negative scores), and integrated.
 * The variance is that of a single score, not of a short mean: window scores with a small hop
 * are strongly autocorrelated, so the short mean varies nearly as much as one score (and a
 * larger prior spread errs on the side of fewer alarms).
 */
export function transformedMoments(prior: ValidationQuantiles, scale: number): { mean: number; variance: number } {
  let prev = -Infinity;
  for (const key of QUANTILE_KEYS) {
    const v = prior[key];
    if (!(Number.isFinite(v) && v >= prev)) {
      throw new ModelError('MODEL_INVALID', `validation quantile ${key} must be finite and >= the lower ones, got ${v}`, { field: `validationQuantiles.${key}` });
    }
    prev = v;
  }
  const p0 = prior.p50 - 1.25 * (prior.p90 - prior.p50);
  const levels = [0, ...QUANTILE_LEVELS];
  const values = [prior.p50 >= 0 ? Math.max(p0, 0) : p0, ...QUANTILE_KEYS.map((k) => prior[k])];
  const steps = 4_000; // midpoint rule over u in (0, 1); runs once per entity start
  let m1 = 0;
  let m2 = 0;
  let seg = 0;
  for (let i = 0; i < steps; i++) {
    const u = (i + 0.5) / steps;
    while (u > levels[seg + 1]) seg++;
    const f = (u - levels[seg]) / (levels[seg + 1] - levels[seg]);
    const raw = values[seg] + f * (values[seg + 1] - values[seg]);
    const s = Math.sign(raw) * Math.log1p(Math.abs(raw) / scale);
    m1 += s;
    m2 += s * s;
  }
  m1 /= steps;
  return { mean: m1, variance: Math.max(m2 / steps - m1 * m1, 0) };
}

const LN10 = Math.LN10;

/**
 * log erfc(x) for x >= 0, in log space so it never underflows: Numerical Recipes' `erfcc`
 * Chebyshev fit, fractional error below 1.2e-7 everywhere.
 */
function logErfc(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - x * x + poly;
}

/** log Q(z), Q the standard Gaussian upper tail P(Z > z); finite for every finite z. */
export function logGaussianTail(z: number): number {
  if (z >= 0) return logErfc(z / Math.SQRT2) - Math.LN2;
  return Math.log1p(-0.5 * Math.exp(logErfc(-z / Math.SQRT2)));
}

/** Numenta's likelihood 1 - Q(z); exactly 1 once Q(z) < 1.1e-16 (z > 8.2), 1.000000 at 6 decimals from z ≈ 4.9. */
export function likelihoodOf(z: number): number {
  return 1 - Math.exp(logGaussianTail(z));
}

/** NAB's log scaling of a likelihood, as numenta/NAB computes it (1.000000 at 6 decimals from z ≈ 7.9). */
export function logLikelihoodOf(likelihood: number): number {
  return Math.log(1.0000000001 - likelihood) / Math.log(1.0 - 0.9999999999);
}

/** -log10 Q(z): 0.3 at z = 0, 3 at Q = 1e-3, 10 at z ≈ 6.4; strictly increasing, never saturates. */
export function surpriseOf(z: number): number {
  return -logGaussianTail(z) / LN10;
}

/**
 * A surprise mapped into [0, 1) without saturation, for consumers that need a bounded score
 * (NAB sweeps thresholds over [0, 1]): s / (s + half); 0.5 at s = half.
 */
export function boundedSurprise(surprise: number, half = 10): number {
  return surprise / (surprise + half);
}
