/**
 * Calibration of the imputation score's profile test. The profile test generates the window with
 * all of it hidden, from the calendar and the command channels alone, and takes z̄, the mean
 * standardised residual of the newest `profileSpan` points (imputationScorer.ts). How far z̄ strays
 * in normal operation depends on how much the calendar explains: a daily cycle is predicted
 * closely, a 96-minute cycle not at all (its phase is not in the calendar), and there an
 * uncalibrated ½ z̄² scored every normal point as a large anomaly and drowned the context test
 * (a 5σ contextual-spike AUC of 0.50, qualityImputation.test.ts). So z̄ is compared with its own
 * spread on the held-out validation windows:
 *
 *   fitted    = mean m_c and std s_c of z̄ over the validation windows, per target channel
 *   evidence  = ½ ((z̄ − m_c) / s_c)²                  in the NLL's units, ≈ ½ χ²₁ in normal operation
 *
 * A profile that explains nothing has a wide s_c and adds little; one that explains the day has a
 * narrow s_c, and a stretch that is wrong for the time of day stands out. Plain data: no tf import.
 */

/** Smallest s_c: a channel whose z̄ never varied on validation still gets a finite evidence. */
const STD_FLOOR = 0.05;

export interface ProfileStats {
  /** Per channel, mean and std of z̄ over the validation windows; null for non-target channels. */
  mean: (number | null)[];
  std: (number | null)[];
  /** The same of the dispersion d (ModelConfig.dispersionTest); absent without it. */
  dispersion?: DispersionStats;
}

/**
 * Mean and std of d per channel. d is ln mean z² over the newest points, or ln mean |z| on the
 * channels marked `absolute` (ModelConfig.robustDispersion, chooseDispersion); absent: none.
 */
export interface DispersionStats {
  mean: (number | null)[];
  std: (number | null)[];
  absolute?: boolean[];
}

/** Fit on the z̄ of W windows `[W, C]`. */
export function fitProfileStats(zBar: ArrayLike<number>, W: number, targets: readonly boolean[]): ProfileStats {
  const C = targets.length;
  const mean: (number | null)[] = [];
  const std: (number | null)[] = [];
  for (let c = 0; c < C; c++) {
    if (!targets[c] || W === 0) {
      mean.push(null);
      std.push(null);
      continue;
    }
    let sum = 0;
    let sq = 0;
    for (let w = 0; w < W; w++) {
      const v = zBar[w * C + c];
      sum += v;
      sq += v * v;
    }
    const m = sum / W;
    mean.push(m);
    std.push(Math.max(Math.sqrt(Math.max(0, sq / W - m * m)), STD_FLOOR));
  }
  return { mean, std };
}

/**
 * Per channel, the dispersion statistic that is steadier on normal windows for the change it is
 * there to find: a noise scaled by r moves ln mean z² by 2 ln r and ln mean |z| by ln r, so the
 * first is kept unless half its spread on the calibration windows exceeds the second's spread.
 * With Gaussian residuals it does not (mean z² is the efficient estimate of a variance); with
 * heavy tails one outlier dominates a mean of squares, and normal windows then reach a dispersion
 * term as large as a real change of the noise. Only targets with both fits can be marked.
 */
export function chooseDispersion(square: DispersionStats, absolute: DispersionStats): DispersionStats {
  const marked = square.std.map((s, c) => s !== null && absolute.std[c] !== null && absolute.std[c]! < s / 2);
  if (!marked.some(Boolean)) return { mean: square.mean, std: square.std };
  return {
    mean: square.mean.map((m, c) => (marked[c] ? absolute.mean[c] : m)),
    std: square.std.map((s, c) => (marked[c] ? absolute.std[c] : s)),
    absolute: marked,
  };
}

/** f((x − m_c)/s_c) per window and target channel of `[b, C]` values; 0 for non-targets. */
function standardisedTerms(x: ArrayLike<number>, b: number, stats: Pick<ProfileStats, 'mean' | 'std'>, f: (z: number) => number): Float64Array {
  const C = stats.mean.length;
  const out = new Float64Array(b * C);
  for (let w = 0; w < b; w++) {
    for (let c = 0; c < C; c++) {
      const m = stats.mean[c];
      const s = stats.std[c];
      if (m === null || s === null) continue;
      out[w * C + c] = f((x[w * C + c] - m) / s);
    }
  }
  return out;
}

/**
 * Evidence `[b, C]` of the dispersion d `[b, C]`: ½ max(0, (d − m_c)/s_c)², one-sided
 * (scatter wider than on validation; scatter too narrow is the too-still test's, stillness.ts).
 */
export function dispersionTerms(d: ArrayLike<number>, b: number, stats: Pick<ProfileStats, 'mean' | 'std'>): Float64Array {
  return standardisedTerms(d, b, stats, (z) => 0.5 * Math.max(0, z) ** 2);
}

/** Evidence `[b, C]` from z̄ `[b, C]`; 0 for non-targets. */
export function profileTerms(zBar: ArrayLike<number>, b: number, stats: ProfileStats): Float64Array {
  return standardisedTerms(zBar, b, stats, (z) => 0.5 * z * z);
}
