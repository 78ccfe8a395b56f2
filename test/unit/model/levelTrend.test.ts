import { describe, expect, it } from 'vitest';
import { movesOneWay, trendForecastR2, trendingChannels } from '../../../src/model/levelTrend.ts';
import { gaussians, mulberry32 } from '../../../src/random.ts';

const DAY = 96;
const N = 6 * DAY;

/** One channel `[N]`: a daily cycle of amplitude 3 with noise of sd 0.5, plus `slope` per row. */
function cycle(seed: number, slope: number): Float64Array {
  const noise = gaussians(mulberry32(seed), N);
  return Float64Array.from({ length: N }, (_, t) => 3 * Math.sin((2 * Math.PI * t) / DAY) + 0.5 * noise[t] + slope * t);
}

/** An AR(1) wander (φ 0.95) with no trend: its level moves, but not in a direction that lasts. */
function wander(seed: number): Float64Array {
  const e = gaussians(mulberry32(seed), N);
  const x = new Float64Array(N);
  for (let t = 1; t < N; t++) x[t] = 0.95 * x[t - 1] + 0.3 * e[t];
  return x;
}

describe('trendForecastR2', () => {
  it('is positive for a cycle on a trend that outgrows the first half, on every seed', () => {
    for (let seed = 1; seed <= 5; seed++) expect(trendForecastR2(cycle(seed, 0.004 * (288 / DAY)), 1, 0)).toBeGreaterThan(0.2);
  });

  it('is not positive for a cycle without a trend', () => {
    for (let seed = 1; seed <= 5; seed++) expect(trendForecastR2(cycle(seed, 0), 1, 0)).toBeLessThanOrEqual(0);
  });

  it('can be positive for a level that wanders: a line follows where it went last', () => {
    const passed = Array.from({ length: 20 }, (_, k) => trendForecastR2(wander(k + 1), 1, 0) > 0).filter(Boolean).length;
    expect(passed).toBeGreaterThan(0);
  });

  it('reads one column of interleaved rows, and gives -Infinity where the second half is flat or too short', () => {
    const a = cycle(1, 0.012);
    const b = cycle(2, 0);
    const rows = Float64Array.from({ length: 2 * N }, (_, k) => (k % 2 === 0 ? a : b)[Math.floor(k / 2)]);
    expect(trendForecastR2(rows, 2, 0)).toBeCloseTo(trendForecastR2(a, 1, 0), 12);
    expect(trendForecastR2(rows, 2, 1)).toBeCloseTo(trendForecastR2(b, 1, 0), 12);
    expect(trendForecastR2(new Float64Array(N).fill(4), 1, 0)).toBe(-Infinity);
    expect(trendForecastR2([1, 2, 3], 1, 0)).toBe(-Infinity);
  });
});

describe('movesOneWay', () => {
  it('is true for block means that only rise or only fall, false for any turn and for too few rows', () => {
    const ramp = Float64Array.from({ length: 50 }, (_, t) => t);
    expect(movesOneWay(ramp, 1, 0)).toBe(true);
    expect(movesOneWay(ramp.map((v) => -v), 1, 0)).toBe(true);
    expect(movesOneWay(ramp.map((v, t) => (t >= 40 ? 0 : v)), 1, 0)).toBe(false);
    expect(movesOneWay([1, 2, 3, 4], 1, 0)).toBe(false);
  });
});

describe('trendingChannels', () => {
  it('passes no wandering level of twenty, where the forecast alone passes some', () => {
    for (let seed = 1; seed <= 20; seed++) expect(trendingChannels(wander(seed), 1, [true])).toEqual([false]);
  });

  it('passes a cycle on a trend, on every seed', () => {
    for (let seed = 1; seed <= 5; seed++) expect(trendingChannels(cycle(seed, 0.012), 1, [true])).toEqual([true]);
  });

  it('marks the targets that trend, never a conditioning channel', () => {
    const up = cycle(3, 0.012);
    const flat = cycle(4, 0);
    const rows = Float64Array.from({ length: 3 * N }, (_, k) => [up, flat, up][k % 3][Math.floor(k / 3)]);
    expect(trendingChannels(rows, 3, [true, true, false])).toEqual([true, false, false]);
  });
});
