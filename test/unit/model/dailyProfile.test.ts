import { describe, expect, it } from 'vitest';
import { dailyProfileR2, groupsWithDailyProfile } from '../../../src/model/dailyProfile.ts';
import { gaussians, mulberry32 } from '../../../src/random.ts';

const DAY = 288;
const N = 7 * DAY;
const timestamps = Float64Array.from({ length: N }, (_, t) => Date.UTC(2024, 0, 1) + t * 300_000);

/** `[N, 4]`: a daily cycle with noise, a cycle of 2.3 per day, plain noise, a slow drift. */
function rows(seed: number): Float64Array {
  const rng = mulberry32(seed);
  const [a, b, c, d, step] = [gaussians(rng, N), gaussians(rng, N), gaussians(rng, N), gaussians(rng, N), gaussians(rng, N)];
  const out = new Float64Array(N * 4);
  let drift = 0;
  for (let t = 0; t < N; t++) {
    drift = 0.995 * drift + 0.3 * step[t];
    out.set([2 * Math.sin((2 * Math.PI * t) / DAY) + a[t], 3 * Math.sin((2 * Math.PI * 2.3 * t) / DAY) + b[t], c[t], drift + d[t]], t * 4);
  }
  return out;
}

describe('dailyProfileR2', () => {
  it('is high for a daily cycle, and not above 0 for a cycle of another period or noise', () => {
    for (const seed of [1, 2, 3]) {
      const r = rows(seed);
      expect(dailyProfileR2(r, 4, 0, timestamps)).toBeGreaterThan(0.5);
      for (const c of [1, 2]) expect(dailyProfileR2(r, 4, c, timestamps), `channel ${c}`).toBeLessThan(0);
      // A drift slower than a day carries over from one day to the next, so it can pass by a hair
      // (one seed of three here): the lenient side, where the group reads the calendar as before.
      expect(dailyProfileR2(r, 4, 3, timestamps)).toBeLessThan(0.1);
    }
  });

  it('needs an even and an odd day: one day gives -Infinity', () => {
    expect(dailyProfileR2(rows(1).subarray(0, 200 * 4), 4, 0, timestamps)).toBe(-Infinity);
  });

  it('flags the groups with at least one target whose profile holds', () => {
    expect(groupsWithDailyProfile(rows(1), 4, [[0, 3], [1], [2]], [true, true, true, true], timestamps)).toEqual([true, false, false]);
    // Channel 0 as a command (not a target) does not count.
    expect(groupsWithDailyProfile(rows(1), 4, [[0, 2]], [false, true, true, true], timestamps)).toEqual([false]);
  });
});
