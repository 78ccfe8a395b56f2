/**
 * A companion of the imputation score for variability that is too LOW (and, with `rough`, too high). The imputation score asks
 * how unlikely the newest point is; a flatline or a stuck (sample-and-hold) sensor makes every
 * point *more* likely than normal, so it ranked below normal data (AUC 0.15 and 0.29 on the
 * synthetic suite). This test looks at how much the channel moved over the points that reach the
 * newest one, against how much it moved in training:
 *
 *   s_c      = mean |z_i − z_{i−1}| over the last `span` points of the window, channel c (scaled units);
 *              with `step: 'median'`, the median |z_i − z_{i−1}| instead
 *   fitted   = mean μ_c and std σ_c of ln s_c over the training windows, per target channel
 *   z_still  = (μ_c − ln max(s_c, S_MIN)) / σ_c          one-sided: only stiller than usual counts
 *   evidence = ½ max(0, z_still − margin)²               in the NLL's units (½ z²), 0 in normal operation
 *
 * A channel that was this still in training (a quiet setpoint) has a low μ_c and is not flagged
 * for being quiet. With `rough` (ModelConfig.roughnessTest) the test is two-sided: a channel that
 * moves far more than it did in training (its noise tripled) scores ½ max(0, −z_still − margin)²
 * as well; the context test alone sees such a stretch only as a run of moderately unlikely points.
 *
 * Why the median step can replace the mean: a sample-and-hold sensor repeats its reading and then
 * jumps by what it missed, so most of its steps are 0 and a few are large. The mean step counts
 * those jumps and stays near normal; the median step is 0. Occasional spikes, which the context
 * test already scores, do not move the median either, so the two-sided test then asks about the
 * noise level alone.
 * Plain data: no tf import.
 */

/** Below this mean step (scaled units) a channel is as still as it gets: the log is capped here. */
const S_MIN = 1e-4;
/** Smallest σ of ln s: a channel whose movement never varied in training still gets a finite z. */
const LOG_STD_FLOOR = 0.05;

/** How the steps of a window are summarised: their mean, or their median (absent in older models: the mean). */
export type StepStatistic = 'mean' | 'median';

export interface StillnessStats {
  /** Points the statistic is taken over: the newest `span` of the window. */
  span: number;
  /** z_still above this margin counts. */
  margin: number;
  /** Also count movement above the training's (two-sided); absent in models from before it and when off. */
  rough?: true;
  /** The median step instead of the mean; absent: the mean (models from before it). */
  step?: 'median';
  /** Per channel, mean and std of ln s over the training windows; null for non-target channels. */
  logMean: (number | null)[];
  logStd: (number | null)[];
}

/** ln of the mean (or median) absolute step of channel c over the last `span` points of window w of `[W, L, C]` values. */
function logStep(x: ArrayLike<number>, w: number, L: number, C: number, c: number, span: number, step: StepStatistic): number {
  const steps = new Float64Array(Math.max(1, span - 1));
  for (let i = L - span + 1, k = 0; i < L; i++, k++) steps[k] = Math.abs(x[(w * L + i) * C + c] - x[(w * L + i - 1) * C + c]);
  const s = step === 'median' ? medianOf(steps) : steps.reduce((a, v) => a + v, 0) / steps.length;
  return Math.log(Math.max(s, S_MIN));
}

/** The median of a few values (sorts them in place): the mean of the two middle ones for an even count. */
function medianOf(xs: Float64Array): number {
  xs.sort();
  const h = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[h] : (xs[h - 1] + xs[h]) / 2;
}

/** Fit on normalised training windows `[W, L, C]`. */
export function fitStillness(x: ArrayLike<number>, W: number, L: number, C: number, span: number, targets: readonly boolean[], margin: number, rough = false, step: StepStatistic = 'mean'): StillnessStats {
  const s = Math.min(Math.max(2, span), L);
  const logMean: (number | null)[] = [];
  const logStd: (number | null)[] = [];
  for (let c = 0; c < C; c++) {
    if (!targets[c] || W === 0) {
      logMean.push(null);
      logStd.push(null);
      continue;
    }
    let sum = 0;
    let sq = 0;
    for (let w = 0; w < W; w++) {
      const v = logStep(x, w, L, C, c, s, step);
      sum += v;
      sq += v * v;
    }
    const mean = sum / W;
    logMean.push(mean);
    logStd.push(Math.max(Math.sqrt(Math.max(0, sq / W - mean * mean)), LOG_STD_FLOOR));
  }
  return { span: s, margin, logMean, logStd, ...(rough ? { rough: true as const } : {}), ...(step === 'median' ? { step } : {}) };
}

/** Evidence per channel for window w of normalised windows `[b, L, C]`; 0 for non-targets. */
export function stillnessTerms(z: ArrayLike<number>, w: number, L: number, C: number, stats: StillnessStats): Float64Array {
  const out = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const mean = stats.logMean[c];
    const std = stats.logStd[c];
    if (mean === null || std === null) continue;
    const zStill = (mean - logStep(z, w, L, C, c, stats.span, stats.step ?? 'mean')) / std;
    const excess = stats.rough ? Math.abs(zStill) : zStill;
    out[c] = 0.5 * Math.max(0, excess - stats.margin) ** 2;
  }
  return out;
}
