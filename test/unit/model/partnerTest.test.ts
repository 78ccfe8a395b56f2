import { describe, expect, it } from 'vitest';
import { fitPartnerTest, MIN_EXPLAINED, partnerTerms, targetGroups } from '../../../src/model/partnerTest.ts';
import { rocAuc } from '../../../src/model/rocAuc.ts';
import { gaussians, mulberry32 } from '../../../src/random.ts';

/**
 * `[N, 4]` scaled rows: channels 0-2 share a wandering cause (AR(1), φ 0.95), each with its own
 * gain and noise; channel 3 wanders on its own. With `breakAt`, channel 2 follows another cause
 * of the same size from that row on.
 */
function rows(seed: number, N: number, breakAt = Infinity): Float64Array {
  const rng = mulberry32(seed);
  const [a, b, n0, n1, n2, n3, own] = Array.from({ length: 7 }, () => gaussians(rng, N));
  const out = new Float64Array(N * 4);
  let cause = 0;
  let other = 0;
  let alone = 0;
  for (let t = 0; t < N; t++) {
    cause = 0.95 * cause + 0.3 * a[t];
    other = 0.95 * other + 0.3 * b[t];
    alone = 0.95 * alone + 0.3 * own[t];
    const drive2 = t >= breakAt ? other : cause;
    out.set([cause + 0.15 * n0[t], 2 * cause + 1 + 0.15 * n1[t], -drive2 + 0.15 * n2[t], alone + 0.15 * n3[t]], t * 4);
  }
  return out;
}

const fit = (seed: number, groups: number[][]) => {
  const train = rows(seed, 2000);
  const validation = rows(seed + 100, 500);
  return fitPartnerTest({ z: train, N: 2000, C: 4 }, { z: validation, N: 500, C: 4 }, groups);
};

describe('fitPartnerTest', () => {
  it('fits each channel on its partners at the same moment, and drops a channel they do not explain', () => {
    const test = fit(1, [[0, 1, 2, 3]])!;
    const [r0, r1, r2, r3] = test.regressions;
    // Channel 1 = 2·cause + 1: from channel 0 (≈ cause) and channel 2 (≈ −cause).
    expect(r1!.partners).toEqual([0, 2, 3]);
    expect(r1!.coef[0] - r1!.coef[1]).toBeCloseTo(2, 0);
    expect(Math.abs(r1!.coef[2])).toBeLessThan(0.1);
    expect(r1!.intercept).toBeCloseTo(1, 1);
    expect(r0 && r2).toBeTruthy();
    // Channel 3 wanders alone: its partners explain nothing, so it has no test.
    expect(r3).toBeNull();
    expect(test.calibration.knots[3]).toBeNull();
  });

  it('fits nothing across groups, and nothing at all where no group has partners that explain', () => {
    expect(fit(2, [[0], [1], [2], [3]])).toBeUndefined();
    expect(fit(2, [[0, 3], [1], [2]])).toBeUndefined();
    const split = fit(2, [[0, 1], [2, 3]])!;
    expect(split.regressions.map((r) => r?.partners ?? null)).toEqual([[1], [0], null, null]);
  });

  it('ranks the rows of a channel that broke away from its partners above normal rows', () => {
    const test = fit(3, [[0, 1, 2, 3]])!;
    const N = 1000;
    const z = rows(4, N, 600);
    const terms = partnerTerms(z, N, test); // [N, 4]
    const score = Array.from({ length: N }, (_, t) => Math.max(terms[t * 4], terms[t * 4 + 1], terms[t * 4 + 2]));
    expect(rocAuc(score.slice(600), score.slice(0, 600))).toBeGreaterThan(0.8); // measured 0.894: rows where the two causes happen to agree stay normal
    // Before the break the evidence is what the validation windows allow: about −log p.
    const before = score.slice(0, 600).sort((x, y) => x - y);
    expect(before[Math.floor(0.5 * before.length)]).toBeLessThan(2);
    expect(terms.filter((_, k) => k % 4 === 3).every((v) => v === 0)).toBe(true);
  });

  it('needs the partners to explain at least half the variance', () => {
    expect(MIN_EXPLAINED).toBe(0.5);
    // Noise as large as the cause: the partners explain under half, and the test is dropped.
    const rng = mulberry32(5);
    const N = 2000;
    const z = new Float64Array(N * 2);
    const [a, n0, n1] = [gaussians(rng, N), gaussians(rng, N), gaussians(rng, N)];
    for (let t = 0; t < N; t++) z.set([a[t] + 1.2 * n0[t], a[t] + 1.2 * n1[t]], t * 2);
    expect(fitPartnerTest({ z, N: 1500, C: 2 }, { z: z.subarray(1500 * 2), N: 500, C: 2 }, [[0, 1]])).toBeUndefined();
  });
});

describe('targetGroups', () => {
  it('maps the net groups (indices into the channels read) to target channel indices, without their commands', () => {
    // Channels: 0 a, 1 cmd (unread), 2 b, 3 cmd (read), 4 c. Read: 0, 2, 3, 4 → net indices 0..3.
    const targets = [true, false, true, false, true];
    const reads = [true, false, true, true, true];
    expect(targetGroups(targets, reads, [[0, 2], [1, 3]])).toEqual([[0], [2, 4]]);
    expect(targetGroups(targets, reads, undefined)).toEqual([[0, 2, 4]]);
  });
});
