/**
 * Which conditioning channels (commands) the net reads. A command that drives a target, a valve
 * and the flow through it, must be read: the target's response is only predictable from it. But
 * slow, unrelated flags read together tell the net where in the training rows a window lies, and
 * a net that reads them memorises the targets' noise instead of learning their pattern. On the
 * synthetic multivariate layout (3 analogue channels, 22 commands, 3 constants) fitted on 3 days,
 * the window score ranked a 5σ spike at 0.58 with every command read and 1.00 with
 * none (docs/tuning-log.md, "Commands the net reads"). So training keeps a command only where its
 * changes are followed by changes of some target within the net's reach:
 *
 *   over the training rows, for a target a and a command k (first differences, Δ):
 *     r_ℓ  = corr(Δa_t, Δk_{t−ℓ}),  ℓ = 0 … R−1   (R: the points that reach the newest one)
 *     √n r_ℓ ≈ N(0, 1) when k's changes say nothing of a's
 *   k is read when max_ℓ n r_ℓ² > z², z the normal quantile at 1 − RELATION_P / (2R) (two-sided,
 *   Bonferroni over the R lags), for at least one target. A response or a level step follows a
 *   command's edge at one lag or a few, so the largest lag is the test: a sum over all R lags
 *   (a χ²_R test) missed a mode flag that switched 8 times in 3 days.
 *
 * A response that lags by more than the reach cannot be used by the net anyway. A command left
 * unread is no input of the net (imputation.ts), and is still watched for values never seen in
 * training (imputationSpec.ts). Plain data: no tf import.
 */
import { logGaussianTail } from '../detect/calibration.ts';

/**
 * False-positive rate per (target, command) pair: one unrelated command read in 10,000 pairs. Set,
 * not tuned: a command wrongly read costs a little accuracy, a related one left unread costs
 * every anomaly of its relation, so the test leans towards reading.
 */
export const RELATION_P = 1e-4;

/** Only the newest rows are screened: enough for the test's power, and bounded work for a long history. */
const MAX_ROWS = 50_000;

/** z with Q(z) = α, by bisection on the detector's log Q (decreasing). */
export function normalQuantileAbove(alpha: number): number {
  const target = Math.log(alpha);
  let [lo, hi] = [0, 40];
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (logGaussianTail(mid) > target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** max over lags 0 … R−1 of n r_ℓ², for first differences `da`, `dk` of the same length. */
export function relationStatistic(da: Float64Array, dk: Float64Array, R: number): number {
  const n = da.length;
  let best = 0;
  for (let lag = 0; lag < Math.min(R, n - 2); lag++) {
    const m = n - lag;
    let sa = 0;
    let sk = 0;
    for (let t = lag; t < n; t++) (sa += da[t]), (sk += dk[t - lag]);
    const [ma, mk] = [sa / m, sk / m];
    let cov = 0;
    let va = 0;
    let vk = 0;
    for (let t = lag; t < n; t++) {
      const [x, y] = [da[t] - ma, dk[t - lag] - mk];
      cov += x * y;
      va += x * x;
      vk += y * y;
    }
    if (va > 0 && vk > 0) best = Math.max(best, (m * cov * cov) / (va * vk));
  }
  return best;
}

/**
 * Per channel: true for a conditioning channel the net should read; targets get false (they are
 * read as targets, not through this).
 * @param rows training rows `[N, C]`, raw units
 * @param reach R, the points that can reach the newest output
 */
export function relatedConditioning(rows: ArrayLike<number>, C: number, targets: readonly boolean[], reach: number): boolean[] {
  return conditioningRelations(rows, C, targets, reach).map((related) => related !== null && related.length > 0);
}

/**
 * Per channel: for a conditioning channel, the targets its changes are followed by (empty for a
 * constant or an unrelated flag); null for a target.
 */
export function conditioningRelations(rows: ArrayLike<number>, C: number, targets: readonly boolean[], reach: number): (number[] | null)[] {
  const N = rows.length / C;
  const from = Math.max(0, N - MAX_ROWS);
  const diff = (c: number) => Float64Array.from({ length: N - from - 1 }, (_, i) => rows[(from + i + 1) * C + c] - rows[(from + i) * C + c]);
  const targetDiffs = targets.flatMap((t, c) => (t ? [[c, diff(c)] as const] : []));
  const bar = normalQuantileAbove(RELATION_P / (2 * reach)) ** 2;
  return targets.map((t, c) => {
    if (t) return null;
    const dk = diff(c);
    if (dk.every((v) => v === 0)) return []; // a constant says nothing
    return targetDiffs.flatMap(([a, da]) => (relationStatistic(da, dk, reach) > bar ? [a] : []));
  });
}
