import { describe, expect, it } from 'vitest';
import { calendarFeatures, CALENDAR_FEATURES } from '../../../src/model/calendar.ts';

describe('calendarFeatures', () => {
  it('puts Monday 00:00 UTC at phase 0 of the day and the week, and 06:00 a quarter day on', () => {
    const [monday, six] = [Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 1, 6)];
    const f = calendarFeatures([monday, six]);
    expect(f.length).toBe(2 * CALENDAR_FEATURES);
    expect(Array.from(f.subarray(0, 4)).map((v) => +v.toFixed(6))).toEqual([0, 1, 0, 1]);
    expect(f[4]).toBeCloseTo(1, 6); // sin of a quarter day
    expect(f[5]).toBeCloseTo(0, 6);
    expect(Math.atan2(f[6], f[7])).toBeCloseTo((2 * Math.PI * 0.25) / 7, 6); // a quarter of a day into the week
  });

  it('repeats every day in the day features and every week in the week features, and wraps at midnight', () => {
    const t = Date.UTC(2024, 4, 17, 13, 35);
    const [a, nextDay, nextWeek] = [calendarFeatures([t]), calendarFeatures([t + 86_400_000]), calendarFeatures([t + 7 * 86_400_000])];
    expect(nextDay[0]).toBeCloseTo(a[0], 5);
    expect(nextDay[1]).toBeCloseTo(a[1], 5);
    expect(Math.abs(nextDay[2] - a[2]) + Math.abs(nextDay[3] - a[3])).toBeGreaterThan(0.1);
    for (let k = 0; k < 4; k++) expect(nextWeek[k]).toBeCloseTo(a[k], 5);
    const [before, after] = [calendarFeatures([Date.UTC(2024, 0, 1) - 60_000]), calendarFeatures([Date.UTC(2024, 0, 1) + 60_000])];
    expect(Math.hypot(before[0] - after[0], before[1] - after[1])).toBeLessThan(0.01);
  });
});
