import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import { createBaselineScorer, RollingMedian, Z_CAP } from '../../../src/model/baselineScorer.ts';
import type { Window } from '../../../src/types.ts';

/** A window of `points` ([L][C]) at timestamps t0, t0 + 1, ... */
function win(entityId: string, channels: string[], points: number[][], t0: number): Window {
  const L = points.length;
  const timestamps = Float64Array.from(points, (_, i) => t0 + i);
  return {
    entityId,
    channels,
    length: L,
    startTime: timestamps[0],
    endTime: timestamps[L - 1],
    timestamps,
    values: Float32Array.from(points.flat()), // [L, C]
    hasGap: points.flat().some(Number.isNaN),
    sources: [],
    releases: [],
  };
}

/** Deterministic standard-normal-ish noise (sum of uniforms from an LCG). */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return () => u() + u() + u() + u() + u() + u() - 3;
}

function bruteMedian(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

describe('RollingMedian', () => {
  it('gives the median and 1.4826 * MAD of known values', () => {
    const h = new RollingMedian(10);
    [4, 1, 100, 3, 2].forEach((x) => h.push(x));
    expect(h.median()).toBe(3);
    expect(h.scale()).toBeCloseTo(1.4826 * 1, 12); // |x - 3| = 1, 2, 97, 0, 1 → MAD 1
    h.push(10); // 1 2 3 4 10 100: median 3.5, |x - 3.5| = .5 .5 1.5 2.5 6.5 96.5 → MAD 2
    expect(h.median()).toBe(3.5);
    expect(h.scale()).toBeCloseTo(1.4826 * 2, 12);
  });

  it('matches a brute-force median and MAD over the last `capacity` values, ties included', () => {
    let s = 99;
    const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % 7) - 3;
    const h = new RollingMedian(9);
    const all: number[] = [];
    for (let i = 0; i < 300; i++) {
      const x = rand() * (i % 5 === 0 ? 10 : 1);
      h.push(x);
      all.push(x);
      const tail = all.slice(-9);
      const med = bruteMedian(tail);
      const mad = bruteMedian(tail.map((v) => Math.abs(v - med)));
      expect(h.count).toBe(tail.length);
      expect(h.median()).toBe(med);
      if (mad > 0) expect(h.scale()).toBeCloseTo(1.4826 * mad, 12);
    }
  });

  it('falls back to the mean absolute deviation, then to a floor relative to |median|, when the MAD is 0', () => {
    const h = new RollingMedian(10);
    [5, 5, 5, 5, 9].forEach((x) => h.push(x)); // MAD 0, mean |x - 5| = 0.8
    expect(h.scale()).toBeCloseTo(0.8 * Math.sqrt(Math.PI / 2), 12);
    const c = new RollingMedian(10);
    for (let i = 0; i < 10; i++) c.push(200);
    expect(c.scale()).toBeCloseTo(0.2, 12);
    const z = new RollingMedian(10);
    for (let i = 0; i < 10; i++) z.push(0);
    expect(z.scale()).toBeGreaterThan(0);
  });
});

describe('createBaselineScorer', () => {
  it('scores the newest point as |x - median| / (1.4826 * MAD) of the history before the window', async () => {
    const scorer = createBaselineScorer({ historyLength: 100, minHistory: 5 });
    expect([scorer.name, scorer.version]).toEqual(['baseline', 'baseline-v1']);
    const [first] = await scorer.score([win('m', ['a'], [[4], [1], [100], [3], [2]], 0)]);
    expect(first.warmup).toBe(true); // scored against an empty history
    expect(Array.from(first.pointScores)).toEqual([0, 0, 0, 0, 0]);
    // history is now 1 2 3 4 100: median 3, MAD 1. Window overlaps the first by 4 points.
    const [s] = await scorer.score([win('m', ['a'], [[1], [100], [3], [2], [9]], 1)]);
    expect(s.warmup).toBe(false);
    expect(s.score).toBeCloseTo(6 / 1.4826, 5);
    expect(Array.from(s.pointScores)).toEqual(Array.from(Float32Array.from([2, 97, 0, 1, 6], (d) => d / 1.4826)));
    expect(Array.from(s.channelContributions)).toEqual([1]);
  });

  it('gives a spike a high score and attributes it to the right channel', async () => {
    const scorer = createBaselineScorer({ historyLength: 512 });
    const n = noise(1);
    const series = Array.from({ length: 300 }, () => [20 + n(), 5 + 0.1 * n(), -3 + 2 * n()]);
    const channels = ['temp', 'vib', 'load'];
    for (let t = 0; t + 32 <= 300; t += 32) await scorer.score([win('m', channels, series.slice(t, t + 32), t)]);
    const normal = [...series.slice(269, 300), [20 + n(), 5 + 0.1 * n(), -3 + 2 * n()]];
    const spiked = [...series.slice(269, 300), [20 + n(), 7, -3 + 2 * n()]];
    const [calm] = await scorer.score([win('m', channels, normal, 269)]);
    const fresh = createBaselineScorer({ historyLength: 512 });
    for (let t = 0; t + 32 <= 300; t += 32) await fresh.score([win('m', channels, series.slice(t, t + 32), t)]);
    const [spike] = await fresh.score([win('m', channels, spiked, 269)]);
    expect(calm.score).toBeLessThan(4);
    expect(spike.score).toBeGreaterThan(6 * 2);
    expect(spike.channelContributions[1]).toBeGreaterThan(0.8);
    expect(spike.channelContributions.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(spike.pointScores[30]).toBeLessThan(4);
  });

  it('never divides by zero on a constant history and keeps scores finite', async () => {
    const scorer = createBaselineScorer({ historyLength: 64, minHistory: 8 });
    await scorer.score([win('m', ['a', 'b'], Array.from({ length: 16 }, () => [0, 50]), 0)]);
    const [same] = await scorer.score([win('m', ['a', 'b'], [[0, 50], [0, 50]], 16)]);
    expect(same.score).toBe(0);
    expect(Array.from(same.channelContributions)).toEqual([0, 0]);
    const [moved] = await scorer.score([win('m', ['a', 'b'], [[0, 50], [1, 50.05]], 18)]);
    expect(Number.isFinite(moved.score)).toBe(true);
    expect(moved.score).toBe(Z_CAP); // 1 against a constant 0 saturates
    // 50.05 against a constant 50: scale floor 0.05 → z ≈ 1
    const zb = moved.channelContributions[1] * (Z_CAP + 1);
    expect(zb).toBeCloseTo(1, 2);
  });

  it('scores gaps (NaN) as 0 and keeps them out of the history', async () => {
    const scorer = createBaselineScorer({ historyLength: 64, minHistory: 4 });
    const [gap] = await scorer.score([win('m', ['a'], [[1], [2], [NaN], [3], [4]], 0)]);
    expect(Array.from(gap.pointScores).every(Number.isFinite)).toBe(true);
    const [after] = await scorer.score([win('m', ['a'], [[NaN], [2.5]], 5)]);
    // history 1 2 3 4 (NaN skipped): median 2.5 → the newest point scores 0
    expect(after.score).toBe(0);
    expect(after.pointScores[0]).toBe(0);
  });

  it('stays in warm-up until the entity has minHistory points, counting overlapping points once', async () => {
    const scorer = createBaselineScorer({ historyLength: 100, minHistory: 10 });
    const series = Array.from({ length: 20 }, (_, i) => [Math.sin(i)]);
    const warm: boolean[] = [];
    for (let t = 0; t + 4 <= 20; t++) warm.push((await scorer.score([win('m', ['x'], series.slice(t, t + 4), t)]))[0].warmup);
    // After the window starting at t the history holds t + 4 distinct points; window t sees t + 3.
    expect(warm).toEqual(Array.from({ length: 17 }, (_, t) => t + 3 < 10));
  });

  it('bounds the history to historyLength points', async () => {
    const scorer = createBaselineScorer({ historyLength: 8, minHistory: 8 });
    await scorer.score([win('m', ['x'], Array.from({ length: 50 }, () => [0]), 0)]);
    await scorer.score([win('m', ['x'], Array.from({ length: 8 }, (_, i) => [100 + (i % 2)]), 50)]);
    // only the last 8 points (100/101) remain: 100.5 is their median
    const [s] = await scorer.score([win('m', ['x'], [[100.5]], 58)]);
    expect(s.score).toBe(0);
  });

  it('keeps entities apart, handling a batch in array order', async () => {
    const scorer = createBaselineScorer({ historyLength: 64, minHistory: 4 });
    const base = Array.from({ length: 8 }, (_, i) => [i % 2]);
    const results = await scorer.score([
      win('a', ['x'], base, 0),
      win('b', ['x'], [[1000]], 0),
      win('a', ['x'], [[1000]], 8),
    ]);
    expect(results.map((r) => r.warmup)).toEqual([true, true, false]);
    expect(results[1].score).toBe(0); // b has no history of its own
    expect(results[2].score).toBeGreaterThan(100); // a's history (0/1) makes 1000 extreme
    const again = await scorer.score([win('b', ['x'], [[1000]], 1)]);
    expect(again[0].score).toBe(0); // b's history is its own 1000, not a's
  });

  it('rejects a history that cannot hold minHistory points', () => {
    expect(() => createBaselineScorer({ historyLength: 0 })).toThrow(ConfigError);
    expect(() => createBaselineScorer({ historyLength: 16, minHistory: 32 })).toThrow(/minHistory/);
  });
});
