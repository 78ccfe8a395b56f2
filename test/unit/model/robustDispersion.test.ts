/**
 * ModelConfig.robustDispersion: the dispersion test's statistic per channel, chosen on the
 * calibration windows (profileCalibration.ts, chooseDispersion; the rule itself on independent
 * Gaussian and Student-t residuals is in profileCalibration.test.ts). A level with Student-t(3)
 * noise gets ln mean |z|: one outlier dominates a mean of squares, and normal windows score as
 * high as a widened noise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainedModel } from '../../../src/model/checkpoint.ts';
import { seededRng } from '../../../src/model/diffusion.ts';
import { profileResiduals } from '../../../src/model/imputationScorer.ts';
import { dispersionTerms } from '../../../src/model/profileCalibration.ts';
import { normalize } from '../../../src/model/normalization.ts';
import { rocAuc } from '../../../src/model/rocAuc.ts';
import { train } from '../../../src/model/trainer.ts';
import { scoringNoise } from '../../../src/model/windowScorer.ts';
import { gatherWindows, windowStarts, windowTimestamps } from '../../../src/model/windows.ts';
import { gaussians } from '../../../src/random.ts';
import { useBackend } from './helpers.ts';

const L = 32;
const FIT = 1_200;
const ROWS = 1_800;
/** Rows after the fit whose noise is widened 2.5 times. */
const WIDE = [1_400, 1_500] as const;
const timestamps = Float64Array.from({ length: ROWS }, (_, r) => Date.UTC(2026, 0, 1) + r * 60_000);
const CONFIG = { windowLength: L, width: 16, depth: 2, epochs: 4, stride: 2, seed: 3, calendar: false } as const;

/** Student-t with 3 degrees of freedom, scaled to unit variance: a Gaussian over √(χ²₃/3), over √3. */
function studentT3(seed: number, n: number): Float64Array {
  const g = gaussians(seededRng(seed), 4 * n);
  return Float64Array.from({ length: n }, (_, i) => g[i] / Math.sqrt((g[n + 3 * i] ** 2 + g[n + 3 * i + 1] ** 2 + g[n + 3 * i + 2] ** 2) / 3) / Math.sqrt(3));
}

function series(noise: Float64Array): Float64Array {
  return Float64Array.from({ length: ROWS }, (_, r) => 5 + noise[r] * (r >= WIDE[0] && r < WIDE[1] ? 2.5 : 1));
}

/** Each window's dispersion term after the fit, and whether its newest row is widened. */
function afterFit(model: TrainedModel, values: Float64Array): { terms: number[]; wide: boolean[] } {
  const imp = model.manifest.imputation!;
  const stats = imp.profile!.dispersion!;
  const starts = windowStarts(ROWS, L, 1).filter((s) => s >= FIT);
  const z = normalize(model.manifest.normalization, gatherWindows(values, 1, L, starts));
  const r = profileResiduals(model, imp, { z, timestamps: windowTimestamps(timestamps, L, starts), b: starts.length, noise: scoringNoise(model) });
  const terms = Array.from(dispersionTerms(stats.absolute?.[0] ? r.dispersionAbsolute! : r.dispersion!, starts.length, stats));
  const newest = starts.map((s) => s + L - 1);
  // Rows whose newest 16 points hold only part of the widened stretch are left out of both classes.
  const keep = newest.map((row) => row < WIDE[0] || row >= WIDE[1] + 16 || (row >= WIDE[0] + 16 && row < WIDE[1]));
  return { terms: terms.filter((_, k) => keep[k]), wide: newest.filter((_, k) => keep[k]).map((row) => row >= WIDE[0] && row < WIDE[1]) };
}

function auc({ terms, wide }: { terms: number[]; wide: boolean[] }): number {
  return rocAuc(terms.filter((_, k) => wide[k]), terms.filter((_, k) => !wide[k]));
}

describe('robustDispersion: the dispersion statistic chosen per channel on the calibration windows', () => {
  const heavy = series(studentT3(11, ROWS));
  const models: Partial<Record<'heavy' | 'heavySquare', TrainedModel>> = {};

  beforeAll(async () => {
    await useBackend('wasm');
    const fit = (values: Float64Array) => ({ values: values.slice(0, FIT), channels: ['value'], timestamps: timestamps.slice(0, FIT) });
    // The same net either way: only the calibration differs.
    models.heavy = await train(fit(heavy), { ...CONFIG, robustDispersion: true });
    models.heavySquare = await train(fit(heavy), { ...CONFIG, robustDispersion: false });
  }, 240_000);
  afterAll(() => Object.values(models).forEach((m) => m?.dispose()));

  it('marks the heavy-tailed channel for ln mean |z|; without the option the same net keeps ln mean z²', () => {
    expect(models.heavy!.manifest.losses).toEqual(models.heavySquare!.manifest.losses);
    expect(models.heavy!.manifest.imputation!.dispersionTest).toBe(true);
    expect(models.heavy!.manifest.imputation!.profile!.dispersion!.absolute).toEqual([true]);
    expect(models.heavySquare!.manifest.imputation!.profile!.dispersion!.absolute).toBeUndefined();
  });

  it('on heavy-tailed noise, separates a widened noise from normal windows better than ln mean z²', () => {
    const robust = afterFit(models.heavy!, heavy);
    const square = afterFit(models.heavySquare!, heavy);
    expect(robust.wide).toEqual(square.wide);
    expect(auc(robust)).toBeGreaterThan(auc(square) + 0.02);
    expect(auc(robust)).toBeGreaterThan(0.9);
  });
});
