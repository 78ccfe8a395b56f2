import { describe, expect, it } from 'vitest';
import { fitStillness, stillnessTerms } from '../../../src/model/stillness.ts';
import { mulberry32 } from '../../../src/random.ts';

const L = 16;
/** W windows `[W, L, 2]`: channel 0 noisy, channel 1 a conditioning flag. */
function windows(W: number, seed: number, noise = 1): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: W * L * 2 }, (_, k) => (k % 2 === 0 ? noise * (rng() - 0.5) : 1));
}

describe('stillness', () => {
  const stats = fitStillness(windows(300, 1), 300, L, 2, 8, [true, false], 3);

  it('is 0 for windows like the training ones and for non-target channels', () => {
    const w = windows(50, 2);
    for (let i = 0; i < 50; i++) {
      const t = stillnessTerms(w, i, L, 2, stats);
      expect(t[0]).toBe(0);
      expect(t[1]).toBe(0);
    }
  });

  it('grows as the newest points freeze: a flatline, then a stuck value that moves once', () => {
    const flat = windows(1, 3);
    for (let i = L - 8; i < L; i++) flat[i * 2] = 0.2;
    const stuck = windows(1, 3);
    for (let i = L - 8; i < L; i++) stuck[i * 2] = i < L - 4 ? 0.2 : 0.3;
    const [f, s] = [stillnessTerms(flat, 0, L, 2, stats)[0], stillnessTerms(stuck, 0, L, 2, stats)[0]];
    expect(s).toBeGreaterThan(0);
    expect(f).toBeGreaterThan(s);
  });

  it('does not flag a channel that was as quiet in training', () => {
    const quiet = fitStillness(windows(300, 1, 0.001), 300, L, 2, 8, [true, false], 3);
    const w = windows(1, 4, 0.001);
    expect(stillnessTerms(w, 0, L, 2, quiet)[0]).toBe(0);
    expect(stillnessTerms(w, 0, L, 2, stats)[0]).toBeGreaterThan(0); // the same window against a noisy channel's training
  });

  it('counts a channel moving far more than in training only when two-sided (rough)', () => {
    const rough = fitStillness(windows(300, 1), 300, L, 2, 8, [true, false], 3, true);
    expect(rough.rough).toBe(true);
    expect(stats.rough).toBeUndefined();
    const loud = windows(1, 5, 10); // ten times the training's noise
    expect(stillnessTerms(loud, 0, L, 2, stats)[0]).toBe(0);
    expect(stillnessTerms(loud, 0, L, 2, rough)[0]).toBeGreaterThan(1);
    const usual = windows(50, 2);
    for (let i = 0; i < 50; i++) expect(stillnessTerms(usual, i, L, 2, rough)[0]).toBe(0);
    const flat = windows(1, 3);
    for (let i = L - 8; i < L; i++) flat[i * 2] = 0.2;
    expect(stillnessTerms(flat, 0, L, 2, rough)[0]).toBe(stillnessTerms(flat, 0, L, 2, stats)[0]);
  });

  it("with step 'median', flags a sample-and-hold stretch that the mean step passes, and still nothing usual", () => {
    const median = fitStillness(windows(300, 1), 300, L, 2, 8, [true, false], 3, false, 'median');
    expect(median.step).toBe('median');
    expect(stats.step).toBeUndefined();
    // The newest 8 points hold for 4 and then jump by four normal steps' worth: same mean step, median 0.
    const held = windows(1, 6);
    for (let i = L - 8; i < L; i++) held[i * 2] = i < L - 4 ? 0 : 1.2;
    expect(stillnessTerms(held, 0, L, 2, stats)[0]).toBe(0);
    expect(stillnessTerms(held, 0, L, 2, median)[0]).toBeGreaterThan(10);
    const usual = windows(50, 2);
    for (let i = 0; i < 50; i++) expect(stillnessTerms(usual, i, L, 2, median)[0]).toBe(0);
  });
});
