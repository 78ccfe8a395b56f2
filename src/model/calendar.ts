/**
 * Calendar features: where a point lies in its day and its week, as the sine and cosine of the
 * phase (so midnight is next to 23:55, and Sunday next to Monday). An imputation model gets them
 * as conditioning inputs, which lets it learn what is normal at this time of day and on this day
 * of the week: context that a window of a few dozen points cannot hold. Plain data: no tf import.
 *
 *   feature[i] = [sin 2π·d, cos 2π·d, sin 2π·w, cos 2π·w]
 *   d = (t mod day) / day,  w = ((t / day + 3) mod 7) / 7   (epoch day 0 was a Thursday: w = 0 on Monday 00:00 UTC)
 *
 * Times are UTC: a service whose daily cycle follows a local clock sees the same phase shifted by
 * its offset, which a learnt profile absorbs (daylight-saving jumps do not: a known limitation).
 *
 * @example calendarFeatures([Date.UTC(2024, 0, 1, 6)]) // [1, ≈0, 0.09…, 0.99…]: 06:00 on a Monday
 */

/** Features per point. */
export const CALENDAR_FEATURES = 4;

/** Milliseconds in a day: the calendar's, the daily profile's and the trend level's period. */
export const DAY_MS = 86_400_000;

/** `[N, 4]` row-major features of N timestamps (epoch ms). */
export function calendarFeatures(timestamps: ArrayLike<number>): Float32Array {
  const out = new Float32Array(timestamps.length * CALENDAR_FEATURES);
  for (let i = 0; i < timestamps.length; i++) {
    const days = timestamps[i] / DAY_MS;
    const d = 2 * Math.PI * (days - Math.floor(days));
    const weeks = (days + 3) / 7;
    const w = 2 * Math.PI * (weeks - Math.floor(weeks));
    out.set([Math.sin(d), Math.cos(d), Math.sin(w), Math.cos(w)], i * CALENDAR_FEATURES);
  }
  return out;
}

/**
 * Days of training data a model needs before it is given the calendar: each time of day must be
 * seen at least twice, or the net learns the value of each minute of the one day it saw and
 * predicts that instead of the context. Measured on a 96-minute cycle sampled each minute for
 * 1.4 days (qualityImputation.test.ts): with the calendar, the 5σ contextual-spike AUC fell from
 * above 0.9 to 0.77.
 */
export const CALENDAR_MIN_DAYS = 2;

/** Whether training rows with these timestamps (epoch ms, in time order) cover `CALENDAR_MIN_DAYS`. */
export function coversCalendar(timestamps: ArrayLike<number>, rows: number): boolean {
  return rows > 1 && timestamps[rows - 1] - timestamps[0] >= CALENDAR_MIN_DAYS * DAY_MS;
}
