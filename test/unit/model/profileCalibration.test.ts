import { describe, expect, it } from 'vitest';
import { dispersionTerms, fitProfileStats, profileTerms } from '../../../src/model/profileCalibration.ts';

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
