/**
 * Whether a channel's level trends over its training rows: the test that decides which channels
 * an imputation model judges by their shape alone (ModelConfig.trendCentering). A channel on a
 * trend that outgrows the fit (a disk filling, a user base growing) is scored, days later, at
 * levels the net never saw; asked about them, the net answers with nonsense and every window of
 * the new level outscores a real fault (docs/tuning-log.md, "Window centering"). Such a channel's
 * windows are centred, so the net judges how they move and not where they lie. A channel without
 * a trend keeps its level: a sustained shift stays evidence for as long as it lasts.
 *
 * First a forecast, not a fit: a straight line through the first half of the rows is
 * extrapolated over the second half and compared with the first half's mean,
 *
 *   R²_f = 1 − Σ_second (x − line_first(t))² / Σ_second (x − mean_first)²
 *
 * which must be positive: the trend carries forward better than a fixed level does. A line
 * through noise or a cycle adds its own error when extrapolated, and predicts the second half worse
 * than the mean. A level that wanders can pass (a line follows where it went last: 43 of 200 AR(1)
 * series with φ 0.95 did), so the rows must also move one way throughout: the means of `BLOCKS`
 * equal blocks of them rise, or fall, from each block to the next (1 of those 200 passed both).
 * No threshold to tune (as in dailyProfile.ts). Rows that do not span a week are not tested
 * (imputationTraining.ts): part of a weekly swing passes both. Plain data: no tf import.
 */

/** Blocks whose means must be in order: five independent means are, by chance, 2 times in 5! = 120. */
export const BLOCKS = 5;

/** R²_f of column c of `rows` `[N, C]`; -Infinity when there are too few rows or the second half does not move. */
export function trendForecastR2(rows: ArrayLike<number>, C: number, c: number): number {
  const N = Math.floor(rows.length / C);
  const h = Math.floor(N / 2);
  if (h < 2) return -Infinity;
  // Least squares of x on t over the first half, t centred on its mean.
  const tMean = (h - 1) / 2;
  let xSum = 0;
  for (let t = 0; t < h; t++) xSum += rows[t * C + c];
  const xMean = xSum / h;
  let sxt = 0;
  let stt = 0;
  for (let t = 0; t < h; t++) {
    sxt += (t - tMean) * (rows[t * C + c] - xMean);
    stt += (t - tMean) * (t - tMean);
  }
  const slope = sxt / stt;
  let lineError = 0;
  let meanError = 0;
  for (let t = h; t < N; t++) {
    const x = rows[t * C + c];
    lineError += (x - xMean - slope * (t - tMean)) ** 2;
    meanError += (x - xMean) ** 2;
  }
  return meanError > 0 ? 1 - lineError / meanError : -Infinity;
}

/** Whether the means of `BLOCKS` equal consecutive blocks of column c of `rows` `[N, C]` strictly rise or strictly fall. */
export function movesOneWay(rows: ArrayLike<number>, C: number, c: number): boolean {
  const size = Math.floor(Math.floor(rows.length / C) / BLOCKS);
  if (size < 1) return false;
  const means = Array.from({ length: BLOCKS }, (_, k) => {
    let sum = 0;
    for (let t = k * size; t < (k + 1) * size; t++) sum += rows[t * C + c];
    return sum / size;
  });
  const steps = means.slice(1).map((m, k) => m - means[k]);
  return steps.every((d) => d > 0) || steps.every((d) => d < 0);
}

/** Per channel, whether it is a target whose level trends over the training rows `[N, C]`: it moves one way and R²_f > 0. */
export function trendingChannels(rows: ArrayLike<number>, C: number, targets: readonly boolean[]): boolean[] {
  return targets.map((target, c) => target && movesOneWay(rows, C, c) && trendForecastR2(rows, C, c) > 0);
}
