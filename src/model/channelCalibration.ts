/**
 * How the evidence of several target channels becomes one window score. Each channel's evidence
 * (imputationScorer.ts) is an NLL in its own units: a channel the network predicts closely and
 * one it predicts loosely both score a few units on a normal point, but their tails differ by a
 * factor of ten on the validation windows (a coupled channel's 99th percentile was 134 where the
 * main channel's was 78). A plain sum lets the loosest channel decide, and a one-channel anomaly
 * drowns in it. So each channel's evidence is first turned into a surprise against its own
 * distribution on the held-out validation windows, then the surprises are combined:
 *
 *   fitted      per target channel, the validation evidence at the quantiles q = 0, 0.05, …, 0.90
 *               (`knots`), and an exponential tail above the 0.90 quantile u: β = the mean excess
 *               over u of the top 10 %, at least `TAIL_SCALE_FLOOR`
 *   s_c(e)      = −log P(E_c ≥ e)   (0 below every validation value)
 *               = −log(1 − q) interpolated linearly between the knots, up to u
 *               = −log 0.1 + (e − u) / β                  above u
 *   window      = log( (1/n) Σ_c exp(s_c) )  over the n target channels
 *               + Σ novelty of the conditioning channels (imputationSpec.ts), unchanged
 *
 * The first term is −log of the harmonic mean of the channels' p-values (Wilson, PNAS 2019): it
 * follows the most surprising channel when one stands out, stays valid when channels are
 * correlated, and its terms, exp(s_c) / Σ exp(s), are the channels' shares of it. With one target
 * channel there is nothing to combine, so a model with one target channel carries no calibration
 * and its evidence is its score (a monotone map would change no ranking).
 * Plain data: no tf import.
 */
import { quantileSorted } from './normalization.ts';

/** Quantiles of the validation evidence kept as knots; the top one is where the exponential tail starts. */
export const KNOT_QUANTILES: readonly number[] = Array.from({ length: 19 }, (_, i) => i * 0.05);

/**
 * Smallest tail scale β, in NLL units. A calibrated Gaussian's ½z² has β = 1; a channel whose
 * validation tail was narrower than half that is more likely a short validation set than a channel
 * twice as sharp as its own noise, and a tiny β would turn every small excess into a huge surprise.
 */
export const TAIL_SCALE_FLOOR = 0.5;

export interface ChannelCalibration {
  /** Per channel, the evidence at `KNOT_QUANTILES` on the validation windows (non-decreasing); null for non-targets. */
  knots: (number[] | null)[];
  /** Per channel, the exponential tail's scale β above the last knot; null for non-targets. */
  tailScale: (number | null)[];
}

/** Fit on the evidence of W validation windows `[W, C]`. */
export function fitChannelCalibration(evidence: ArrayLike<number>, W: number, targets: readonly boolean[]): ChannelCalibration {
  const C = targets.length;
  const knots: (number[] | null)[] = [];
  const tailScale: (number | null)[] = [];
  for (let c = 0; c < C; c++) {
    if (!targets[c] || W === 0) {
      knots.push(null);
      tailScale.push(null);
      continue;
    }
    const sorted = Float64Array.from({ length: W }, (_, w) => evidence[w * C + c]).sort();
    const at = KNOT_QUANTILES.map((q) => quantileSorted(sorted, q));
    const u = at[at.length - 1];
    let excess = 0;
    let n = 0;
    for (const v of sorted) if (v > u) (excess += v - u), n++;
    knots.push(at);
    tailScale.push(Math.max(n > 0 ? excess / n : 0, TAIL_SCALE_FLOOR));
  }
  return { knots, tailScale };
}

/** s = −log P(E ≥ e) for one channel's knots and tail. */
export function surprise(e: number, knots: readonly number[], tailScale: number): number {
  const last = knots.length - 1;
  if (e >= knots[last]) return -Math.log(1 - KNOT_QUANTILES[last]) + (e - knots[last]) / tailScale;
  if (!(e > knots[0])) return 0; // also NaN: no evidence is no surprise
  let k = 1;
  while (knots[k] <= e) k++; // knots[k-1] ≤ e < knots[k]
  const s0 = -Math.log(1 - KNOT_QUANTILES[k - 1]);
  const s1 = -Math.log(1 - KNOT_QUANTILES[k]);
  return s0 + ((s1 - s0) * (e - knots[k - 1])) / (knots[k] - knots[k - 1]);
}

/**
 * Each channel's evidence `[b, C]` as its surprise under `cal`, for a test calibrated on its own
 * (the context test's NLL, ModelConfig.contextCalibration); channels without knots keep theirs.
 */
export function surprises(evidence: ArrayLike<number>, b: number, cal: ChannelCalibration): Float64Array {
  const C = cal.knots.length;
  const out = Float64Array.from(evidence);
  for (let w = 0; w < b; w++) {
    for (let c = 0; c < C; c++) {
      const knots = cal.knots[c];
      if (knots !== null) out[w * C + c] = surprise(evidence[w * C + c], knots, cal.tailScale[c]!);
    }
  }
  return out;
}

export interface CombinedScore {
  score: number;
  /** Each channel's share of `score` `[C]`, summing to 1 (all 0 when the score is 0). */
  shares: Float64Array;
}

/**
 * One window's score from its per-channel evidence `[C]`: targets through their calibration and
 * the harmonic-mean combination, conditioning channels' novelty added as it is.
 */
export function combineEvidence(evidence: ArrayLike<number>, cal: ChannelCalibration): CombinedScore {
  const C = cal.knots.length;
  const s = new Float64Array(C);
  let top = 0;
  let n = 0;
  let novelty = 0;
  for (let c = 0; c < C; c++) {
    const knots = cal.knots[c];
    if (knots === null) {
      novelty += evidence[c];
      continue;
    }
    s[c] = surprise(evidence[c], knots, cal.tailScale[c]!);
    top = Math.max(top, s[c]);
    n++;
  }
  // log-sum-exp from the largest term: a surprise of hundreds would overflow exp.
  let sum = 0;
  for (let c = 0; c < C; c++) if (cal.knots[c] !== null) sum += Math.exp(s[c] - top);
  const combined = n > 0 ? Math.max(0, top + Math.log(sum / n)) : 0;
  const score = combined + novelty;
  const shares = new Float64Array(C);
  if (score > 0) {
    for (let c = 0; c < C; c++) shares[c] = cal.knots[c] === null ? evidence[c] / score : ((Math.exp(s[c] - top) / sum) * combined) / score;
  }
  return { score, shares };
}
