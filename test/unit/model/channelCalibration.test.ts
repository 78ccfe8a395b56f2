import { describe, expect, it } from 'vitest';
import { combineEvidence, fitChannelCalibration, KNOT_QUANTILES, surprise, surprises, TAIL_SCALE_FLOOR } from '../../../src/model/channelCalibration.ts';
import { gaussians } from '../../../src/random.ts';
import { seededRng } from '../../../src/model/diffusion.ts';

/** W windows of `[C]` evidence: channel c is ½ (scale_c · z)², a Gaussian's NLL stretched by scale_c; NaN marks a conditioning channel (evidence 0). */
function validation(W: number, scales: number[], seed = 1): Float64Array {
  const C = scales.length;
  const z = gaussians(seededRng(seed), W * C);
  return Float64Array.from({ length: W * C }, (_, k) => (Number.isNaN(scales[k % C]) ? 0 : 0.5 * (scales[k % C] * z[k]) ** 2));
}

describe('channelCalibration', () => {
  const scales = [1, 10, Number.NaN]; // a tight channel, a loose one, a command
  const targets = [true, true, false];
  const cal = fitChannelCalibration(validation(2000, scales), 2000, targets);

  it('keeps non-decreasing knots and a floored tail per target channel, nothing for conditioning channels', () => {
    expect(cal.knots[2]).toBeNull();
    expect(cal.tailScale[2]).toBeNull();
    for (const c of [0, 1]) {
      const k = cal.knots[c]!;
      expect(k).toHaveLength(KNOT_QUANTILES.length);
      for (let i = 1; i < k.length; i++) expect(k[i]).toBeGreaterThanOrEqual(k[i - 1]);
    }
    // ½z²'s tail above its 90th percentile has a mean excess of about 1 (exactly 1 far out): the loose channel's is about 100.
    expect(cal.tailScale[0]).toBeGreaterThan(0.8);
    expect(cal.tailScale[0]).toBeLessThan(1.5);
    expect(cal.tailScale[1]! / cal.tailScale[0]!).toBeGreaterThan(60);
    const still = fitChannelCalibration(new Float64Array(100), 100, [true]);
    expect(still.tailScale[0]).toBe(TAIL_SCALE_FLOOR);
  });

  it('maps evidence to −log P(E ≥ e): 0 below every validation value, −log 0.1 at the 90th percentile, linear with slope 1/β above', () => {
    const k = cal.knots[0]!;
    const beta = cal.tailScale[0]!;
    expect(surprise(k[0] - 1, k, beta)).toBe(0);
    expect(surprise(Number.NaN, k, beta)).toBe(0);
    expect(surprise(k[10], k, beta)).toBeCloseTo(-Math.log(1 - KNOT_QUANTILES[10]), 9);
    expect(surprise(k[18], k, beta)).toBeCloseTo(-Math.log(0.1), 9);
    expect(surprise(k[18] + 3 * beta, k, beta)).toBeCloseTo(-Math.log(0.1) + 3, 9);
    let last = -1;
    for (let e = 0; e < 20; e += 0.01) {
      const s = surprise(e, k, beta);
      expect(s).toBeGreaterThanOrEqual(last);
      last = s;
    }
    // Against the truth: P(½z² ≥ 4.5) = P(|z| ≥ 3) ≈ 0.0027, so about 5.9 (the fitted tail is exponential, not χ²).
    expect(surprise(4.5, k, beta)).toBeGreaterThan(4.5);
    expect(surprise(4.5, k, beta)).toBeLessThan(7);
  });

  it('ranks a 4σ point of the tight channel above a loose channel\'s ordinary 2σ, which a plain sum ranks the other way', () => {
    const tight4 = [0.5 * 16, 0.5 * 100 * 0.5, 0]; // z = 4 on channel 0; channel 1 at z = 0.7
    const loose2 = [0.5 * 0.5, 0.5 * 100 * 4, 0]; // z = 0.7 on channel 0; channel 1 at z = 2
    const sum = (e: number[]) => e.reduce((a, b) => a + b, 0);
    expect(sum(loose2)).toBeGreaterThan(sum(tight4));
    expect(combineEvidence(tight4, cal).score).toBeGreaterThan(combineEvidence(loose2, cal).score + 2);
    expect(combineEvidence(tight4, cal).shares[0]).toBeGreaterThan(0.9);
  });

  it('is the harmonic mean of p-values: n channels equally surprised score as one of them; one loud channel costs log n', () => {
    const both = fitChannelCalibration(validation(2000, [1, 1], 2), 2000, [true, true]);
    const e = 9;
    const s0 = surprise(e, both.knots[0]!, both.tailScale[0]!);
    const s1 = surprise(e, both.knots[1]!, both.tailScale[1]!);
    expect(combineEvidence([e, e], both).score).toBeCloseTo(Math.log((Math.exp(s0) + Math.exp(s1)) / 2), 9);
    const lone = combineEvidence([e, 0], both).score;
    expect(lone).toBeCloseTo(Math.log((Math.exp(s0) + 1) / 2), 9);
    expect(lone).toBeGreaterThan(s0 - Math.log(2) - 1e-9);
  });

  it('adds a conditioning channel\'s novelty as it is, and its shares sum to 1', () => {
    const quiet = combineEvidence([0, 0, 0], cal);
    expect(quiet.score).toBe(0);
    expect([...quiet.shares]).toEqual([0, 0, 0]);
    const withNovelty = combineEvidence([0, 0, 50], cal);
    expect(withNovelty.score).toBe(50);
    expect(withNovelty.shares[2]).toBe(1);
    const mixed = combineEvidence([8, 30, 12], cal);
    expect(mixed.shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(mixed.score).toBeGreaterThan(12);
    for (const s of mixed.shares) expect(s).toBeGreaterThanOrEqual(0);
  });

  it('survives a surprise of hundreds (no overflow)', () => {
    const r = combineEvidence([5000, 1, 0], cal);
    expect(Number.isFinite(r.score)).toBe(true);
    expect(r.score).toBeGreaterThan(1000);
    expect(r.shares[0]).toBeCloseTo(1, 9);
  });

  it('surprises: maps each target channel of every window through its own knots and leaves a conditioning channel\'s evidence as it is', () => {
    const evidence = [3, 3, 7, 50, 50, 0.5]; // two windows of [tight, loose, command]
    const out = surprises(evidence, 2, cal);
    for (const [w, c] of [[0, 0], [0, 1], [1, 0], [1, 1]]) expect(out[w * 3 + c]).toBe(surprise(evidence[w * 3 + c], cal.knots[c]!, cal.tailScale[c]!));
    expect([out[2], out[5]]).toEqual([7, 0.5]);
    // The same evidence is far more surprising from the tight channel.
    expect(out[3]).toBeGreaterThan(out[4] + 10);
  });
});
