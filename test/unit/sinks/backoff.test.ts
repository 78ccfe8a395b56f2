import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay } from '../../../src/sinks/backoff.ts';

const opts = { baseMs: 200, maxMs: 10_000 };

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt up to maxMs', () => {
    expect([0, 1, 2, 5, 6, 60, 5_000].map((a) => backoffCeiling(a, opts))).toEqual([200, 400, 800, 6_400, 10_000, 10_000, 10_000]);
  });

  it('draws uniformly below the ceiling (full jitter)', () => {
    expect(backoffDelay(3, opts, () => 0)).toBe(0);
    expect(backoffDelay(3, opts, () => 0.25)).toBe(400);
    expect(backoffDelay(3, opts, () => 0.999999)).toBe(1_599);
    expect(backoffDelay(3, opts, () => 0.999999)).toBeLessThan(backoffCeiling(3, opts));
  });
});
