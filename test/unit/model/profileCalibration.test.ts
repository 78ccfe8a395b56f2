import { describe, expect, it } from 'vitest';
import { chooseDispersion, dispersionTerms, fitProfileStats, profileTerms } from '../../../src/model/profileCalibration.ts';
import { seededRng } from '../../../src/model/diffusion.ts';
import { gaussians } from '../../../src/random.ts';

describe('profile calibration', () => {
  // Two channels: a target whose statistic took 1, 3, 1, 3 on validation (mean 2, std 1), and a command.
  const stats = fitProfileStats(Float64Array.from([1, 0, 3, 0, 1, 0, 3, 0]), 4, [true, false]);

  it('fits the mean and std of each target channel on validation; null for the others', () => {
    expect(stats.mean).toEqual([2, null]);
    expect(stats.std).toEqual([1, null]);
  });

  it('scores z̄ two-sided, ½ ((z̄ − m)/s)²', () => {
    expect(Array.from(profileTerms([4, 9, 0, 9], 2, stats))).toEqual([2, 0, 2, 0]);
  });

  it('scores the dispersion one-sided: wider scatter than on validation counts, narrower does not', () => {
    expect(Array.from(dispersionTerms([5, 9, 2, 9, -1, 9], 3, stats))).toEqual([4.5, 0, 0, 0, 0, 0]);
  });
});

describe('chooseDispersion', () => {
  it('marks a channel for ln mean |z| where its spread is under half that of ln mean z²; the others keep their fit', () => {
    const square = { mean: [1, 2, null], std: [0.4, 0.3, null] };
    const absolute = { mean: [0.5, 0.9, null], std: [0.19, 0.16, null] };
    expect(chooseDispersion(square, absolute)).toEqual({ mean: [0.5, 2, null], std: [0.19, 0.3, null], absolute: [true, false, false] });
    // None marked: the square fit as it was, with no `absolute` key (such a manifest is unchanged).
    expect(chooseDispersion(square, { ...absolute, std: [0.2, 0.16, null] })).toEqual(square);
  });

  /** Both statistics over W windows of n independent residuals from `draw`, fitted and chosen. */
  function chosen(draw: (k: number) => number, W = 2_000, n = 16) {
    const sq = new Float64Array(W);
    const abs = new Float64Array(W);
    for (let w = 0; w < W; w++) {
      let s2 = 0;
      let s1 = 0;
      for (let i = 0; i < n; i++) {
        const z = draw(w * n + i);
        s2 += z * z;
        s1 += Math.abs(z);
      }
      sq[w] = Math.log(s2 / n);
      abs[w] = Math.log(s1 / n);
    }
    return chooseDispersion(fitProfileStats(sq, W, [true]), fitProfileStats(abs, W, [true]));
  }

  it('keeps ln mean z² for Gaussian residuals and marks Student-t(3) residuals', () => {
    const g = gaussians(seededRng(4), 4 * 32_000);
    const t3 = (k: number) => g[k] / Math.sqrt((g[32_000 + 3 * k] ** 2 + g[32_001 + 3 * k] ** 2 + g[32_002 + 3 * k] ** 2) / 3);
    expect(chosen((k) => g[k]).absolute).toBeUndefined();
    expect(chosen(t3).absolute).toEqual([true]);
  });
});
