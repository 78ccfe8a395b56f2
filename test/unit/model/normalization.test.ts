import { describe, expect, it } from 'vitest';
import { denormalize, fitRobustScaler, normalize, quantileSorted } from '../../../src/model/normalization.ts';
import { ModelError } from '../../../src/errors.ts';

/** Row-major [N, C] from per-channel columns. */
const rows = (...cols: number[][]) => Float64Array.from({ length: cols[0].length * cols.length }, (_, i) => cols[i % cols.length][Math.floor(i / cols.length)]);

describe('robust normalization', () => {
  it('quantiles interpolate linearly, as numpy', () => {
    const s = Float64Array.from([1, 2, 3, 4]);
    expect(quantileSorted(s, 0.5)).toBe(2.5);
    expect(quantileSorted(s, 0.25)).toBe(1.75);
    expect(quantileSorted(s, 0.75)).toBe(3.25);
  });

  it('fits median and IQR/1.349 per channel, with a floor for a constant channel', () => {
    const a = [1, 2, 3, 4, 5, 6, 7, 8, 9]; // median 5, IQR 7 - 3 = 4
    const b = [10, 10, 10, 10, 10, 10, 10, 10, 10]; // constant: the floor, relative 1e-3 · 10 beating the absolute 1e-3
    const c = [0, 0, 0, 0, 0, 0, 1, 2, 3]; // quartiles 0 and 1 → IQR 1
    const stats = fitRobustScaler(rows(a, b, c), 3);
    expect(stats.center).toEqual([5, 10, 0]);
    expect(stats.scale[0]).toBeCloseTo(4 / 1.349, 12);
    expect(stats.scale[1]).toBeCloseTo(1e-2, 12);
    expect(stats.floored).toEqual([false, true, false]);
    expect(stats.scale[2]).toBeCloseTo(1 / 1.349, 12);
  });

  it('falls back to the 98 % range when the quartiles coincide, robust to rare glitches, then to the floor', () => {
    // A status flag set 5 % of the time: quartiles and MAD are all 0. One glitch must not set the scale.
    const flag = [...Array(189).fill(0), ...Array(10).fill(1), 1e9];
    const stats = fitRobustScaler(rows(flag), 1);
    expect(stats.center).toEqual([0]);
    expect(stats.scale[0]).toBeCloseTo(1 / 4.653, 12); // q01 = 0, q99 = 1
    expect(stats.floored).toEqual([false]);
    // Nearly constant at 10 with one glitch: the relative floor 1e-3 · 10 beats the absolute 1e-3.
    expect(fitRobustScaler(rows([...Array(199).fill(10), 1e9]), 1).scale[0]).toBeCloseTo(1e-2, 12);
    const zero = fitRobustScaler(rows([0, 0, 0, 0]), 1, { absFloor: 0.5 });
    expect(zero).toMatchObject({ center: [0], scale: [0.5], floored: [true] });
    expect(Array.from(normalize(zero, [0, 1]))).toEqual([0, 2]); // finite, large when a constant channel moves
  });

  it('normalize and denormalize are inverse and survive JSON', () => {
    const data = rows([1, 5, 2, 8, 3], [-100, 50, 0, 25, 10]);
    const stats = JSON.parse(JSON.stringify(fitRobustScaler(data, 2)));
    const z = normalize(stats, data);
    expect(z[0]).toBeCloseTo((1 - 3) / stats.scale[0], 5);
    expect(z[1]).toBeCloseTo((-100 - 10) / stats.scale[1], 5);
    const back = denormalize(stats, z);
    data.forEach((v, i) => expect(back[i]).toBeCloseTo(v, 3));
  });

  it('rejects non-finite training data and mismatched channel counts', () => {
    expect(() => fitRobustScaler([1, NaN, 3, 4], 2)).toThrow(/row 0, channel 1/);
    expect(() => fitRobustScaler([1, 2, 3], 2)).toThrow(ModelError);
    expect(() => fitRobustScaler([], 1)).toThrow(ModelError);
    const stats = fitRobustScaler([1, 2, 3, 4], 2);
    expect(() => normalize(stats, [1, 2, 3])).toThrow(/2 channels/);
  });
});
