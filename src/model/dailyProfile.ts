/**
 * Whether a channel has a daily profile that holds from one day to the next: the test that decides
 * whether a group of channels (channelGroups.ts) reads the calendar. A net given the time of day and
 * of the week for a channel without a daily cycle learns the value at each calendar time of the
 * training rows, not a pattern: a week of training shows each week phase once, so the calendar tells
 * it where in its training rows a window lies. On the synthetic fleet layout a cycle of 0.43 per day
 * then led the false alarms of the test week; without the calendar it did not (docs/tuning-log.md,
 * "The calendar per group").
 *
 * The test is cross-validated over days: the mean of each hour of the day is taken on the even
 * calendar days (UTC) and scored on the odd ones, and the other way round,
 *
 *   R²_cv = 1 − Σ (x − profile_other(hour))² / Σ (x − mean_other)²
 *
 * and the profile holds when R²_cv > 0: the hour of the day predicts the other days better than
 * their mean does. No threshold to tune: a profile that only fits noise or a cycle of another
 * period predicts the other half worse than the mean (for pure noise R²_cv ≈ −2·24/n). A drift
 * slower than a day carries over from one day to the next and can pass by a hair; then its group
 * reads the calendar, as every group did before the test.
 * Plain data: no tf import.
 */
import { DAY_MS } from './calendar.ts';

const BINS = 24;

/**
 * R²_cv of the hour-of-day profile of column c of `rows` `[N, C]` (raw units), with `timestamps`
 * (epoch ms) for the N rows; −Infinity when the rows do not span an even and an odd day.
 */
export function dailyProfileR2(rows: ArrayLike<number>, C: number, c: number, timestamps: ArrayLike<number>): number {
  const N = rows.length / C;
  // [half][bin]: sums and counts; half = parity of the UTC day.
  const sum = [new Float64Array(BINS), new Float64Array(BINS)];
  const count = [new Float64Array(BINS), new Float64Array(BINS)];
  const half = new Uint8Array(N);
  const bin = new Uint8Array(N);
  for (let t = 0; t < N; t++) {
    const days = timestamps[t] / DAY_MS;
    half[t] = Math.floor(days) % 2;
    bin[t] = Math.min(BINS - 1, Math.floor((days - Math.floor(days)) * BINS));
    sum[half[t]][bin[t]] += rows[t * C + c];
    count[half[t]][bin[t]] += 1;
  }
  const total = (h: number) => count[h].reduce((a, b) => a + b, 0);
  if (total(0) === 0 || total(1) === 0) return -Infinity;
  const mean = [0, 1].map((h) => sum[h].reduce((a, b) => a + b, 0) / total(h));
  let [sseProfile, sseMean] = [0, 0];
  for (let t = 0; t < N; t++) {
    const other = 1 - half[t];
    const x = rows[t * C + c];
    // An hour the other half never saw is predicted by its mean.
    const p = count[other][bin[t]] > 0 ? sum[other][bin[t]] / count[other][bin[t]] : mean[other];
    sseProfile += (x - p) ** 2;
    sseMean += (x - mean[other]) ** 2;
  }
  return sseMean > 0 ? 1 - sseProfile / sseMean : -Infinity;
}

/** Per group of channels: whether any of its `targets` has a daily profile that holds (R²_cv > 0). */
export function groupsWithDailyProfile(rows: ArrayLike<number>, C: number, groups: readonly (readonly number[])[], targets: readonly boolean[], timestamps: ArrayLike<number>): boolean[] {
  return groups.map((g) => g.some((c) => targets[c] && dailyProfileR2(rows, C, c, timestamps) > 0));
}
