/**
 * The level test of a trend-centred channel (ModelConfig.trendLevelTest). Centred (levelTrend.ts),
 * a channel's windows show the net their shape alone: a step that outlasts the window is found at
 * its start by the context test, and lost once the window has filled with it. This test keeps the
 * level, judged against the trend itself: each window's mean (the offset centring took off) is
 * compared with where the trend and the time of day put it.
 *
 *   fitted    x_t ≈ a + b·d_t + Σ_{k=1..3} (α_k cos 2πk·h_t + β_k sin 2πk·h_t)
 *             least squares on the rows before the validation windows, in scaled units
 *             (d_t: days since the first row, h_t: time of day as a share of the day, UTC as in calendar.ts)
 *   r_w       = window w's mean − the fitted curve's mean over w's timestamps
 *   evidence  = ½ ((r_w − m_c) / s_c)²   with m_c, s_c the mean and std of r_w on the validation
 *             windows (profileCalibration.ts), which lie after the fitted rows: s_c holds a day
 *             of the line's extrapolation error, so a trend that holds adds ½ χ²₁ and no more.
 *
 * Only where the slope is certain (slopeT): the line is extrapolated for as long as the model
 * scores, and a level that wandered one way through the fit (an AR(1) drift with a half-life of
 * hours passes levelTrend.ts's tests by chance) would put every later window off its trend.
 *
 * Three daily harmonics are a smooth hour-of-day profile at any sampling rate (24 hourly bins
 * would be empty at hourly rates and noisy at slower ones); the number is fixed, not tuned.
 * What this cannot know: a trend that stops after the fit. The line runs on, and the residual grows
 * with the time since the fit; a fine-tune refits it (trainer.ts, assembleModel). Plain data: no tf import.
 */
import { Matrix, solve } from 'ml-matrix';
import { ModelError } from '../errors.ts';
import { DAY_MS } from './calendar.ts';
import { BLOCKS } from './levelTrend.ts';
import { fitProfileStats, profileTerms, type ProfileStats } from './profileCalibration.ts';

/** Daily harmonics of the fitted profile. */
export const DAILY_HARMONICS = 3;

const TERMS = 2 + 2 * DAILY_HARMONICS;

export interface TrendLevel {
  /** Epoch ms of d = 0 (the first training row). */
  origin: number;
  /** Per channel, the coefficients [a, b, α_1, β_1, …, α_3, β_3] in scaled units; null for channels not centred. */
  coef: (number[] | null)[];
  /** Per channel, mean and std of r_w on the validation windows; null where `coef` is. */
  residual: ProfileStats;
}

/** The design row of one timestamp: [1, d, cos 2πh, sin 2πh, …]. */
function features(t: number, origin: number, out: Float64Array): Float64Array {
  const days = (t - origin) / DAY_MS;
  const h = 2 * Math.PI * (t / DAY_MS - Math.floor(t / DAY_MS));
  out[0] = 1;
  out[1] = days;
  for (let k = 1; k <= DAILY_HARMONICS; k++) {
    out[2 * k] = Math.cos(k * h);
    out[2 * k + 1] = Math.sin(k * h);
  }
  return out;
}

/** The curve's value for one design row (or a mean of rows): Σ_j coef_j · row_j. */
function curveAt(coef: readonly number[], row: Float64Array): number {
  let y = 0;
  for (let j = 0; j < TERMS; j++) y += coef[j] * row[j];
  return y;
}

/**
 * The curve of each `centred` channel of the scaled rows `z` `[N, C]` at `timestamps` `[N]`, by
 * least squares (an SVD solve: a fit shorter than a day leaves the harmonics collinear).
 */
export function fitTrendCurves(z: ArrayLike<number>, timestamps: ArrayLike<number>, N: number, C: number, centred: readonly boolean[]): Pick<TrendLevel, 'origin' | 'coef'> {
  const origin = timestamps[0];
  const f = new Float64Array(TERMS);
  const xtx = Array.from({ length: TERMS }, () => new Array<number>(TERMS).fill(0));
  const xty = Array.from({ length: C }, () => new Array<number>(TERMS).fill(0));
  for (let t = 0; t < N; t++) {
    features(timestamps[t], origin, f);
    for (let i = 0; i < TERMS; i++) {
      for (let j = 0; j < TERMS; j++) xtx[i][j] += f[i] * f[j];
      for (let c = 0; c < C; c++) if (centred[c]) xty[c][i] += f[i] * z[t * C + c];
    }
  }
  const coef = centred.map((on, c) => (on && N > 0 ? solve(new Matrix(xtx), Matrix.columnVector(xty[c]), true).getColumn(0) : null));
  return { origin, coef };
}

/** r_w `[b, C]` of windows with means `offsets` `[b, C]` and timestamps `[b, L]`; 0 where `coef` is null. */
export function trendResiduals(offsets: ArrayLike<number>, timestamps: ArrayLike<number> | undefined, b: number, L: number, fit: Pick<TrendLevel, 'origin' | 'coef'>): Float64Array {
  const C = fit.coef.length;
  if (!timestamps || timestamps.length !== b * L) {
    throw new ModelError('MODEL_MISMATCH', `this model tests trend levels: scoring needs ${b * L} point timestamps ([${b}, ${L}]), got ${timestamps?.length ?? 'none'}`, { field: 'timestamps', expected: b * L, actual: timestamps?.length ?? 0 });
  }
  const out = new Float64Array(b * C);
  const f = new Float64Array(TERMS);
  const meanRow = new Float64Array(TERMS);
  for (let w = 0; w < b; w++) {
    meanRow.fill(0);
    for (let i = 0; i < L; i++) {
      features(timestamps[w * L + i], fit.origin, f);
      for (let j = 0; j < TERMS; j++) meanRow[j] += f[j] / L;
    }
    for (let c = 0; c < C; c++) {
      const coef = fit.coef[c];
      if (!coef) continue;
      out[w * C + c] = offsets[w * C + c] - curveAt(coef, meanRow);
    }
  }
  return out;
}

/** Two-sided 0.1 % critical value of Student's t with `BLOCKS` − 2 = 3 degrees of freedom. */
export const SLOPE_T_CRITICAL = 12.924;

/**
 * |b| / se(b) of column c's fitted curve over the rows `[N, C]`, se(b) from the residuals' long-run
 * variance: the mean residual of each of `BLOCKS` equal blocks, their mean square over BLOCKS − 2
 * degrees of freedom (the line took two), times the block's length. Residuals that wander for
 * hours make the slope uncertain however many rows there are; white ones leave it sharp.
 */
export function slopeT(z: ArrayLike<number>, timestamps: ArrayLike<number>, N: number, C: number, c: number, fit: Pick<TrendLevel, 'origin' | 'coef'>): number {
  const coef = fit.coef[c];
  const B = Math.floor(N / BLOCKS);
  if (!coef || B < 1) return 0;
  const f = new Float64Array(TERMS);
  let blockSquares = 0;
  let dSum = 0;
  let ddSum = 0;
  for (let k = 0; k < BLOCKS; k++) {
    let sum = 0;
    for (let t = k * B; t < (k + 1) * B; t++) {
      sum += z[t * C + c] - curveAt(coef, features(timestamps[t], fit.origin, f));
    }
    blockSquares += (sum / B) ** 2;
  }
  for (let t = 0; t < N; t++) {
    const d = (timestamps[t] - fit.origin) / DAY_MS;
    dSum += d;
    ddSum += d * d;
  }
  const longRunVariance = (blockSquares / (BLOCKS - 2)) * B;
  const stt = ddSum - (dSum * dSum) / N;
  const se = Math.sqrt(longRunVariance / stt);
  return se > 0 ? Math.abs(coef[1]) / se : Infinity;
}

/**
 * The test fitted on the `centred` channels whose slope is certain (slopeT above
 * `SLOPE_T_CRITICAL`): curves on the training rows `[N, C]`, the residual's mean and spread on W
 * validation windows (their means `[W, C]`, timestamps `[W, L]`). Undefined where no channel's is.
 * An uncertain slope, extrapolated for days, would put every later window off its trend.
 */
export function fitTrendLevel(train: { z: ArrayLike<number>; timestamps: ArrayLike<number>; N: number }, validation: { offsets: ArrayLike<number>; timestamps: ArrayLike<number>; W: number; L: number }, centred: readonly boolean[]): TrendLevel | undefined {
  const C = centred.length;
  const all = fitTrendCurves(train.z, train.timestamps, train.N, C, centred);
  const certain = centred.map((on, c) => on && slopeT(train.z, train.timestamps, train.N, C, c, all) > SLOPE_T_CRITICAL);
  if (!certain.some(Boolean)) return undefined;
  const curves = { origin: all.origin, coef: all.coef.map((k, c) => (certain[c] ? k : null)) };
  const r = trendResiduals(validation.offsets, validation.timestamps, validation.W, validation.L, curves);
  return { ...curves, residual: fitProfileStats(r, validation.W, certain) };
}

/** Evidence `[b, C]` of windows with means `offsets` `[b, C]` and timestamps `[b, L]`: ½ z² of r_w; 0 on channels not centred. */
export function trendLevelTerms(offsets: ArrayLike<number>, timestamps: ArrayLike<number> | undefined, b: number, L: number, level: TrendLevel): Float64Array {
  return profileTerms(trendResiduals(offsets, timestamps, b, L, level), b, level.residual);
}
