import { describe, expect, it } from 'vitest';
import { BlockHistory } from '../../../src/detect/blockHistory.ts';
import { mulberry32 } from '../../../src/random.ts';

/** Mean and population deviation, the straightforward way. */
function exact(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, std: Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length) };
}

const noise = (n: number, seed: number) => {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => 50 + Math.sin(i / 40) + 2 * rng());
};

describe('BlockHistory', () => {
  it('keeps 100 blocks of ⌈window / 100⌉ values', () => {
    expect(new BlockHistory(6_400, 32).blockLen).toBe(64);
    expect(new BlockHistory(1_000, 32).blockLen).toBe(10);
    expect(new BlockHistory(50, 32).blockLen).toBe(1);
  });

  it('fits every value exactly until more than `window` were pushed', () => {
    const xs = noise(6_400, 1);
    const h = new BlockHistory(6_400, 32);
    for (const [i, x] of xs.entries()) {
      h.push([x]);
      if (i === 99 || i === 1_000 || i === 6_399) {
        const want = exact(xs.slice(0, i + 1));
        const got = h.fit();
        expect(got.mean[0]).toBeCloseTo(want.mean, 9);
        expect(got.std[0]).toBeCloseTo(want.std, 9);
      }
    }
  });

  it('afterwards stays within a few thousandths of a deviation of the exact sliding window', () => {
    const xs = noise(20_000, 2);
    const h = new BlockHistory(6_400, 32);
    let worst = 0;
    xs.forEach((x, i) => {
      h.push([x]);
      if (i >= 6_400 && i % 37 === 0) {
        const want = exact(xs.slice(i + 1 - 6_400, i + 1));
        const got = h.fit();
        worst = Math.max(worst, Math.abs(got.mean[0] - want.mean) / want.std, Math.abs(got.std[0] / want.std - 1));
      }
    });
    // Measured: the mean 0.003 deviations off at worst, the deviation 0.2 % (one block of 64 values at its mean).
    expect(worst).toBeLessThan(5e-3);
  });

  it('gives the mean of the newest `recent` values, per channel, and repeats the last value for a gap', () => {
    const h = new BlockHistory(100, 4);
    for (const x of [1, 2, 3, 4, 5, 6]) h.push([x, 10 * x]);
    expect(h.recentMean(0)).toBe(4.5);
    expect(h.recentMean(1)).toBe(45);
    h.push([Number.NaN, 70]);
    expect(h.newest()).toEqual([6, 70]);
    expect(() => h.push([1])).toThrow(/channels/);
  });

  it('restores exactly from its snapshot (through JSON), and from another block size keeps the newest values', () => {
    const xs = noise(9_000, 3);
    const a = new BlockHistory(6_400, 32);
    xs.slice(0, 8_000).forEach((x) => a.push([x, -x]));
    const b = BlockHistory.restore(6_400, 32, JSON.parse(JSON.stringify(a.snapshot())));
    for (const x of xs.slice(8_000)) {
      a.push([x, -x]);
      b.push([x, -x]);
      expect(b.fit()).toEqual(a.fit());
      expect(b.recentMean(1)).toBe(a.recentMean(1));
    }
    const c = BlockHistory.restore(1_000, 32, a.snapshot());
    expect(c.size).toBe(32);
    expect(c.recentMean(0)).toBe(a.recentMean(0));
  });
});
