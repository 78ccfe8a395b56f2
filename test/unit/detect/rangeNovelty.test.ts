import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import { RangeNovelty } from '../../../src/detect/rangeNovelty.ts';

describe('RangeNovelty', () => {
  it('reports nothing while learning, then the excess in units of the range seen before the point', () => {
    const r = new RangeNovelty({ minPoints: 3 });
    expect([r.update([10]), r.update([20]), r.update([30])]).toEqual([0, 0, 0]); // range [10, 30]
    expect(r.update([25])).toBe(0); // inside
    expect(r.update([35])).toBeCloseTo(5 / 20, 12); // 5 above a range of 20
    // The point widened the range to [10, 35].
    expect(r.update([35])).toBe(0);
    expect(r.update([0])).toBeCloseTo(10 / 25, 12);
  });

  it('takes the largest excess over channels and skips non-finite values', () => {
    const r = new RangeNovelty({ minPoints: 2 });
    r.update([0, 0]);
    r.update([10, 1]);
    expect(r.update([11, 3])).toBeCloseTo(2, 12); // channel 1: 2 above a range of 1
    expect(r.update([Number.NaN, 3])).toBe(0);
    expect(r.points).toBe(4);
  });

  it('makes any change of a flat history infinite, so that callers can cap it', () => {
    const r = new RangeNovelty({ minPoints: 2 });
    r.update([5]);
    r.update([5]);
    expect(r.update([5])).toBe(0);
    expect(r.update([6])).toBe(Number.POSITIVE_INFINITY);
  });

  it('rejects a bad minPoints and a change of channel count', () => {
    expect(() => new RangeNovelty({ minPoints: 0 })).toThrow(ConfigError);
    const r = new RangeNovelty({ minPoints: 1 });
    r.update([1]);
    expect(() => r.update([1, 2])).toThrow(/2 channels after points of 1/);
  });
});
