/** NAB's windowedGaussian, checked against a line-by-line transcription of the Python detector. */
import { describe, expect, it } from 'vitest';
import { boundedScore, createWindowedGaussianScorer, WindowedGaussian, zOfBoundedScore } from '../../../../../src/eval/nab/harness/index.ts';
import type { Window } from '../../../../../src/types.ts';
import { rng } from './helpers.ts';

/**
 * `WindowedGaussianDetector.handleRecord` as written in numenta/NAB, returning z instead of
 * 1 - Q(z): lists sliced and concatenated, numpy-style mean and population std.
 */
function nabReference(values: number[], windowSize: number, stepSize: number): number[] {
  let windowData: number[] = [];
  let stepBuffer: number[] = [];
  let mean = 0;
  let std = 1;
  const update = () => {
    mean = windowData.reduce((a, b) => a + b, 0) / windowData.length;
    std = Math.sqrt(windowData.reduce((a, b) => a + (b - mean) ** 2, 0) / windowData.length);
    if (std === 0) std = 0.000001;
  };
  return values.map((x) => {
    let z = 0;
    if (windowData.length > 0) z = Math.abs(x - mean) / std;
    if (windowData.length < windowSize) {
      windowData.push(x);
      update();
    } else {
      stepBuffer.push(x);
      if (stepBuffer.length === stepSize) {
        windowData = windowData.slice(stepSize);
        windowData.push(...stepBuffer);
        stepBuffer = [];
        update();
      }
    }
    return z;
  });
}

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));

const windowOf = (values: number[], end: number, L: number): Window => {
  const v = values.slice(end - L + 1, end + 1);
  return { entityId: 'e', channels: ['value'], length: L, startTime: end - L + 1, endTime: end, timestamps: Float64Array.from(v, (_, i) => end - L + 1 + i), values: Float32Array.from(v), hasGap: false, sources: [], releases: [] };
};

describe('WindowedGaussian', () => {
  it('gives the z of NAB\'s detector at every point, through the filling phase and the step slides', () => {
    const r = rng(7);
    const values = Array.from({ length: 60 }, (_, i) => (i === 41 ? 40 : 10 + r() * 3));
    const g = new WindowedGaussian(8, 3);
    const got = values.map((x) => g.next(x));
    const want = nabReference(values, 8, 3);
    got.forEach((z, i) => expect(z).toBeCloseTo(want[i], 9));
    expect(got[0]).toBe(0); // nothing to compare the first point with
    expect(got[41]).toBeGreaterThan(5); // the spike
  });

  it('refits only every stepSize points once the window is full', () => {
    const g = new WindowedGaussian(4, 3);
    for (const x of [1, 2, 3, 4]) g.next(x); // full: mean 2.5
    expect(g.next(100)).toBeCloseTo(97.5 / Math.sqrt(1.25), 12);
    // 100 sits in the step buffer, not in the fit: the same mean and std judge the next point.
    expect(g.next(2.5)).toBe(0);
    g.next(2.5); // third point: the window becomes [4, 100, 2.5, 2.5]
    const mean = (4 + 100 + 2.5 + 2.5) / 4;
    const std = Math.sqrt(((4 - mean) ** 2 + (100 - mean) ** 2 + 2 * (2.5 - mean) ** 2) / 4);
    expect(g.next(mean + std)).toBeCloseTo(1, 12);
  });

  it('floors a zero standard deviation at 1e-6, as NAB does', () => {
    const g = new WindowedGaussian(10, 1);
    g.next(5);
    g.next(5);
    expect(g.next(5.001)).toBeCloseTo(0.001 / 1e-6, 6);
  });
});

describe('createWindowedGaussianScorer', () => {
  it('feeds every point once whatever the window length, so its window scores equal the pointwise z', async () => {
    const r = rng(3);
    // Windows carry float32 values; the reference sees the same numbers.
    const values = Array.from({ length: 40 }, () => Math.fround(r() * 10));
    const want = nabReference(values, 16, 4);
    for (const L of [1, 5]) {
      const scorer = createWindowedGaussianScorer({ windowSize: 16, stepSize: 4, minHistory: 8 });
      for (let end = L - 1; end < values.length; end++) {
        const [s] = await scorer.score([windowOf(values, end, L)]);
        expect(s.score).toBeCloseTo(want[end], 5);
        expect(s.warmup).toBe(end + 1 < 8);
        // pointScores hold the z of the window's points, newest last (as float32).
        expect(relErr(s.pointScores[L - 1], want[end])).toBeLessThan(1e-6);
        if (L > 1 && end >= L) expect(relErr(s.pointScores[0], want[end - L + 1])).toBeLessThan(1e-6);
      }
    }
  });
});

describe('boundedScore', () => {
  it('is strictly increasing and stays below 1 far beyond where a Gaussian tail saturates', () => {
    const zs = [0, 0.5, 1, 3, 8, 8.3, 8.4, 9, 12, 40, 1e3, 1e6];
    const s = zs.map(boundedScore);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThan(s[i - 1]);
    expect(s[s.length - 1]).toBeLessThan(1);
    // NAB's 3-decimal output would print all of z >= 3.1 as 0.999 or 1.000; ours keeps them apart.
    expect(new Set(s.slice(3).map(String)).size).toBe(s.length - 3);
    expect(boundedScore(Number.NaN)).toBe(0);
    zs.slice(1, -1).forEach((z) => expect(zOfBoundedScore(boundedScore(z))).toBeCloseTo(z, 6));
  });
});
