import { describe, expect, it } from 'vitest';
import { normalQuantileAbove, relatedConditioning } from '../../../src/model/conditioningRelation.ts';
import { gaussians, mulberry32 } from '../../../src/random.ts';

/** A slow random flag: switches with probability p per row. */
function telegraph(rng: () => number, N: number, p: number): Float64Array {
  const out = new Float64Array(N);
  let v = 0;
  for (let t = 0; t < N; t++) {
    if (rng() < p) v = 1 - v;
    out[t] = v;
  }
  return out;
}

/**
 * `[N, 5]`: a daily-cycle channel with noise, a response that follows `cmd` with a lag of 2 and
 * first-order smoothing, the command itself, an unrelated slow flag and a constant.
 */
function rows(N: number, seed: number): Float64Array {
  const rng = mulberry32(seed);
  const noise = gaussians(rng, 2 * N);
  const cmd = telegraph(rng, N, 0.03);
  const flag = telegraph(rng, N, 0.01);
  const out = new Float64Array(N * 5);
  let y = 0;
  for (let t = 0; t < N; t++) {
    y += 0.35 * ((t >= 2 ? cmd[t - 2] : 0) - y);
    out.set([5 * Math.sin((2 * Math.PI * t) / 288) + noise[t], 10 + 6 * y + noise[N + t], cmd[t], flag[t], 42], t * 5);
  }
  return out;
}

describe('relatedConditioning', () => {
  const targets = [true, true, false, false, false];

  it('reads the command a target responds to, not an unrelated flag nor a constant', () => {
    for (const seed of [1, 2, 3]) expect(relatedConditioning(rows(864, seed), 5, targets, 16)).toEqual([false, false, true, false, false]);
  });

  it('reads almost none of many unrelated flags (the test\u2019s false-positive rate is 1e-4 per pair)', () => {
    const N = 2016;
    const F = 40;
    const rng = mulberry32(9);
    const base = rows(N, 9);
    const flags = Array.from({ length: F }, (_, i) => telegraph(rng, N, 0.002 + 0.001 * i));
    const wide = new Float64Array(N * (2 + F));
    for (let t = 0; t < N; t++) {
      wide[t * (2 + F)] = base[t * 5];
      wide[t * (2 + F) + 1] = base[t * 5 + 1];
      for (let f = 0; f < F; f++) wide[t * (2 + F) + 2 + f] = flags[f][t];
    }
    const read = relatedConditioning(wide, 2 + F, [true, true, ...flags.map(() => false)], 32);
    expect(read.filter(Boolean).length).toBeLessThanOrEqual(1);
  });

  it('reads a mode flag that moves a target level the moment it switches', () => {
    const N = 864;
    const v = rows(N, 4);
    for (let t = 0; t < N; t++) v[t * 5] += 3 * v[t * 5 + 3];
    expect(relatedConditioning(v, 5, targets, 16)[3]).toBe(true);
  });

  it('leaves out a response that lags beyond the reach (the net could not use it)', () => {
    const N = 1500;
    const v = rows(N, 5);
    const late = Float64Array.from({ length: N }, (_, t) => (t >= 40 ? v[(t - 40) * 5 + 2] : 0));
    for (let t = 0; t < N; t++) v[t * 5 + 2] = late[t]; // the command now arrives 40 rows after the response
    expect(relatedConditioning(v, 5, targets, 16)[2]).toBe(false);
  });

  it('normal quantile: Q(z) = α at the table values (α 0.025 → 1.960, 1e-4 → 3.719, 3.125e-6 → 4.518)', () => {
    expect(normalQuantileAbove(0.025)).toBeCloseTo(1.96, 2);
    expect(normalQuantileAbove(1e-4)).toBeCloseTo(3.719, 2);
    expect(normalQuantileAbove(3.125e-6)).toBeCloseTo(4.518, 2);
  });
});
