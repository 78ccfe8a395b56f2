import { describe, expect, it } from 'vitest';
import { analogueGroups, incrementStatistic } from '../../../src/model/channelGroups.ts';
import { netGroups } from '../../../src/model/imputationSpec.ts';
import { gaussians, mulberry32 } from '../../../src/random.ts';

const DAY = 288;

/**
 * `[N, 7]`, 7 days of 5-minute rows:
 *   0  a daily cycle with noise
 *   1  a cycle of 2.3 per day, unrelated to 0
 *   2  a slow drift (AR(1), φ 0.995) with noise
 *   3  the same drift, its own gain, offset and noise: related to 2 at coarse scales only
 *   4  a load with fast fluctuations
 *   5  the same fluctuations, scaled (power follows load): related to 4 at scale 1
 *   6  a command that drives 4's level
 */
function rows(seed: number, N = 7 * DAY): Float64Array {
  const rng = mulberry32(seed);
  const z = (n: number) => gaussians(rng, n);
  const [n0, n1, n2, n3, n4, n5, step, fast] = [z(N), z(N), z(N), z(N), z(N), z(N), z(N), z(N)];
  const out = new Float64Array(N * 7);
  let d = 0;
  let cmd = 0;
  for (let t = 0; t < N; t++) {
    d = 0.995 * d + 0.3 * step[t];
    if (rng() < 0.01) cmd = 1 - cmd;
    const load = 3 * fast[t] + 4 * cmd;
    out.set([50 + 5 * Math.sin((2 * Math.PI * t) / DAY) + n0[t], 20 + 4 * Math.sin((2 * Math.PI * 2.3 * t) / DAY + 1) + n1[t], 30 + d + n2[t], 5 + 2 * d + n3[t], 40 + load + 0.5 * n4[t], 100 + 0.8 * load + n5[t], cmd], t * 7);
  }
  return out;
}

const targets = [true, true, true, true, true, true, false];

describe('analogueGroups', () => {
  it('joins channels that share a drift or fast fluctuations, and keeps unrelated cycles apart', () => {
    for (const seed of [1, 2, 3]) expect(analogueGroups(rows(seed), 7, targets, 16)).toEqual([[0], [1], [2, 3], [4, 5]]);
  });

  it('finds a shared drift only at a coarse scale, where one-row increments bury it under noise', () => {
    const r = rows(1);
    expect(incrementStatistic(r, 7, 2, 3, 1)).toBeLessThan(20);
    expect(incrementStatistic(r, 7, 2, 3, 16)).toBeGreaterThan(40);
  });

  it('drops the scales the net cannot reach: with a reach of 4 the shared drift is not seen', () => {
    expect(analogueGroups(rows(1), 7, targets, 4)).toEqual([[0], [1], [2], [3], [4, 5]]);
  });

  it('joins through a chain: a ~ b and b ~ c put a and c in one group', () => {
    // Channel 1 becomes the sum of 0's noise and 2's: related to both, which are unrelated to each other.
    const N = 2000;
    const rng = mulberry32(7);
    const [a, c, e] = [gaussians(rng, N), gaussians(rng, N), gaussians(rng, N)];
    const v = new Float64Array(N * 3);
    for (let t = 0; t < N; t++) v.set([a[t], a[t] + c[t] + 0.3 * e[t], c[t]], t * 3);
    expect(analogueGroups(v, 3, [true, true, true], 16)).toEqual([[0, 1, 2]]);
  });
});

describe('netGroups', () => {
  it('puts each command with the group of the channels it drives, in the net\'s channel order', () => {
    // Channel 6 (the command) drives 4 and 5: it joins their group; net indices equal channel indices here.
    expect(netGroups(rows(2), 7, { targets }, 16)).toEqual({ channels: [[0], [1], [2, 3], [4, 5, 6]], groups: [[0], [1], [2, 3], [4, 5, 6]] });
  });

  it('maps to the net\'s channels when some are not read', () => {
    // A constant put first, as channel 0, and not read: channel c + 1 is the net's channel c.
    const r = rows(2);
    const N = r.length / 7;
    const v = new Float64Array(N * 8);
    for (let t = 0; t < N; t++) v.set([9, ...r.subarray(t * 7, t * 7 + 7)], t * 8);
    const reads = [false, true, true, true, true, true, true, true];
    expect(netGroups(v, 8, { targets: [false, ...targets], reads }, 16)).toEqual({ channels: [[1], [2], [3, 4], [5, 6, 7]], groups: [[0], [1], [2, 3], [4, 5, 6]] });
  });

  it('is undefined when the targets form one group: one net, as without groups', () => {
    const r = rows(3);
    expect(netGroups(r, 7, { targets: [false, false, true, true, false, false, false] }, 16)).toBeUndefined();
  });
});
