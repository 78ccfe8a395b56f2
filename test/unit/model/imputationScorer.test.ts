import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImputationScoring, TrainedModel } from '../../../src/model/checkpoint.ts';
import { KNOT_QUANTILES, surprises } from '../../../src/model/channelCalibration.ts';
import { dispersionTerms, profileTerms } from '../../../src/model/profileCalibration.ts';
import { seededRng } from '../../../src/model/diffusion.ts';
import { fineTune } from '../../../src/model/fineTune.ts';
import { contextVariances, imputeChunk, profileResiduals } from '../../../src/model/imputationScorer.ts';
import { scoringNoise } from '../../../src/model/windowScorer.ts';
import { normalize } from '../../../src/model/normalization.ts';
import { train } from '../../../src/model/trainer.ts';
import { gatherWindows, splitWindows, windowStarts } from '../../../src/model/windows.ts';
import { gaussians } from '../../../src/random.ts';
import { useBackend } from './helpers.ts';

const L = 16;
const N = 640;

describe('imputeChunk: the context and profile tests in one batch', () => {
  let model: TrainedModel;
  const values = Float64Array.from({ length: N }, (_, i) => 50 + 10 * Math.sin((2 * Math.PI * i) / 16) + (i === 500 ? 6 : 0));

  beforeAll(async () => {
    await useBackend('wasm');
    const timestamps = Float64Array.from({ length: N }, (_, i) => i * 1000);
    model = await train({ values: values.slice(0, 400), channels: ['temp'], timestamps: timestamps.slice(0, 400) }, { windowLength: L, width: 8, depth: 2, embedDim: 8, epochs: 2, batchSize: 32, stride: 2, scoring: 'imputation', profileTest: true });
  });
  afterAll(() => model.dispose());

  // 24 windows run both tests in one batch, 160 in two (over MERGED_BATCH_MAX); both hold the spike at row 500.
  it.each([24, 160])('gives each test its own draws (%i windows): the evidence is the larger of the context NLL and ½ z̄² computed apart', (B) => {
    const z = normalize(model.manifest.normalization, gatherWindows(values, 1, L, windowStarts(N, L, 1).slice(490 - B / 2, 490 + B / 2)));
    const base = model.manifest.imputation!;
    expect(base.profileTest).toBe(true);
    // Uncalibrated and without the too-still term, so that the evidence is exactly max(context, ½ z̄²).
    const imp: ImputationScoring = { ...base, profile: undefined, stillness: undefined, dispersionTest: false };
    const noise = Float32Array.from(gaussians(seededRng(model.manifest.scoreSeed), imp.draws * L));
    const input = { z, b: B, noise };
    const before = tf.memory().numTensors;
    const both = imputeChunk(model, imp, input).evidence;
    const context = imputeChunk(model, { ...imp, profileTest: false }, input).evidence;
    const { zBar } = profileResiduals(model, imp, input);
    expect(tf.memory().numTensors).toBe(before);
    let profileWins = 0;
    for (let w = 0; w < B; w++) {
      const profile = 0.5 * zBar[w] * zBar[w];
      expect(both[w]).toBeCloseTo(Math.max(context[w], profile), 6);
      if (profile > context[w]) profileWins++;
    }
    // Both tests decide some windows, so a swap of their draws would show.
    expect(profileWins).toBeGreaterThan(0);
    expect(profileWins).toBeLessThan(B);
  });

  it('centredDispersionChannels: d is ln mean (z − z̄)², and the channel counts the dispersion term alone', () => {
    const B = 24;
    const z = normalize(model.manifest.normalization, gatherWindows(values, 1, L, windowStarts(N, L, 1).slice(478, 478 + B)));
    const base = model.manifest.imputation!;
    const imp: ImputationScoring = { ...base, profileSpan: 8, dispersionTest: true, stillness: undefined, profile: { mean: [0], std: [1], dispersion: { mean: [-1], std: [0.5] } } };
    const noise = Float32Array.from(gaussians(seededRng(model.manifest.scoreSeed), imp.draws * L));
    const input = { z, b: B, noise };
    const centredImp: ImputationScoring = { ...imp, profileChannels: [false], centredDispersionChannels: [true] };
    const before = tf.memory().numTensors;
    const plain = profileResiduals(model, imp, input);
    const centred = profileResiduals(model, centredImp, input);
    const evidence = imputeChunk(model, centredImp, input).evidence;
    const context = imputeChunk(model, { ...imp, profileTest: false }, input).evidence;
    expect(tf.memory().numTensors).toBe(before);
    const scatter = dispersionTerms(centred.dispersion!, B, imp.profile!.dispersion!);
    for (let w = 0; w < B; w++) {
      // mean (z − z̄)² = mean z² − z̄² (each floored by the same 1e-6 inside the log), to float32's precision.
      const expected = Math.exp(plain.dispersion![w]) - plain.zBar[w] ** 2;
      expect(Math.abs(Math.exp(centred.dispersion![w]) - expected) / expected).toBeLessThan(1e-5);
      expect(centred.zBar[w]).toBeCloseTo(plain.zBar[w], 6);
      // The profile term (½ z̄² here) is not counted for this channel; the centred scatter is.
      expect(evidence[w]).toBeCloseTo(Math.max(context[w], scatter[w]), 6);
    }
    // The spike at row 500 moves z̄, and the centred scatter decides some windows but not all.
    const wins = scatter.filter((v, w) => v > context[w]).length;
    expect(wins).toBeGreaterThan(0);
    expect(wins).toBeLessThan(B);
  });

  it('profile.dispersion.absolute: the marked channel is scored by d = ln mean |z|, which Jensen bounds by ½ ln mean z²', () => {
    const B = 24;
    const z = normalize(model.manifest.normalization, gatherWindows(values, 1, L, windowStarts(N, L, 1).slice(478, 478 + B)));
    const base = model.manifest.imputation!;
    const imp: ImputationScoring = { ...base, profileSpan: 8, dispersionTest: true, stillness: undefined, profile: { mean: [0], std: [1], dispersion: { mean: [-1.5], std: [0.3], absolute: [true] } } };
    const noise = Float32Array.from(gaussians(seededRng(model.manifest.scoreSeed), imp.draws * L));
    const input = { z, b: B, noise };
    const before = tf.memory().numTensors;
    const r = profileResiduals(model, imp, input);
    const evidence = imputeChunk(model, imp, input).evidence;
    const context = imputeChunk(model, { ...imp, profileTest: false }, input).evidence;
    expect(tf.memory().numTensors).toBe(before);
    const profile = profileTerms(r.zBar, B, imp.profile!);
    const absolute = dispersionTerms(r.dispersionAbsolute!, B, imp.profile!.dispersion!);
    const square = dispersionTerms(r.dispersion!, B, imp.profile!.dispersion!);
    let decided = 0;
    for (let w = 0; w < B; w++) {
      expect(2 * r.dispersionAbsolute![w]).toBeLessThanOrEqual(r.dispersion![w] + 1e-5);
      expect(evidence[w]).toBeCloseTo(Math.max(context[w], profile[w], absolute[w]), 6);
      if (Math.abs(evidence[w] - Math.max(context[w], profile[w], square[w])) > 1e-3) decided++;
    }
    // Scored by ln mean z², some windows would differ: the choice shows.
    expect(decided).toBeGreaterThan(0);
  });
});

describe('imputeChunk with contextCalibration: the context NLL (under a pooled variance) as a surprise on the validation windows', () => {
  let model: TrainedModel;
  const rows = 400;
  const noise = gaussians(seededRng(5), rows);
  const values = Float64Array.from({ length: rows }, (_, i) => 50 + 10 * Math.sin((2 * Math.PI * i) / 16) + noise[i]);
  const cfg = { windowLength: L, width: 8, depth: 2, embedDim: 8, epochs: 2, batchSize: 32, stride: 1, validationFraction: 0.25, scoring: 'imputation', profileTest: true, contextCalibration: true, contextVariancePrior: 4 } as const;

  beforeAll(async () => {
    await useBackend('wasm');
    const timestamps = Float64Array.from({ length: rows }, (_, i) => i * 1000);
    model = await train({ values, channels: ['temp'], timestamps }, cfg);
  });
  afterAll(() => model.dispose());

  it('maps the raw NLL through knots fitted on the validation windows, so that a tenth of them lie above −log 0.1', () => {
    const imp = model.manifest.imputation!;
    const cal = imp.contextCalibration!;
    expect(cal.knots[0]).toHaveLength(KNOT_QUANTILES.length);
    const starts = splitWindows(rows, L, 1, 0.25).validation;
    const W = starts.length;
    const z = normalize(model.manifest.normalization, gatherWindows(values, 1, L, starts));
    const input = { z, b: W, noise: Float32Array.from(gaussians(seededRng(model.manifest.scoreSeed), imp.draws * L)) };
    const contextOnly: ImputationScoring = { ...imp, profileTest: false, stillness: undefined };
    const raw = imputeChunk(model, { ...contextOnly, contextCalibration: undefined }, input).evidence;
    const calibrated = imputeChunk(model, contextOnly, input).evidence;
    expect(Array.from(calibrated)).toEqual(Array.from(surprises(raw, W, cal)));
    // The knots are this NLL's quantiles: the share above the 0.9 knot is about 10 %, whatever the NLL's own scale.
    const above = calibrated.filter((e) => e > -Math.log(0.1) + 1e-9).length / W;
    expect(above).toBeGreaterThan(0.04);
    expect(above).toBeLessThan(0.14);
    expect(Math.max(...raw)).toBeGreaterThan(Math.max(...calibrated)); // a heavy raw tail, compressed
  });

  it('pools the context variance: per channel, the mean of the validation draws\' variance at the newest point, leak-checked', () => {
    const imp = model.manifest.imputation!;
    expect(imp.contextVariance?.weight).toBe(4);
    const starts = splitWindows(rows, L, 1, 0.25).validation;
    const W = starts.length;
    const z = normalize(model.manifest.normalization, gatherWindows(values, 1, L, starts));
    const before = tf.memory().numTensors;
    let sum = 0;
    for (let start = 0; start < W; start += 256) {
      const b = Math.min(256, W - start);
      const v = contextVariances(model, imp, { z: z.subarray(start * L, (start + b) * L), b, noise: scoringNoise(model) });
      sum += v.reduce((a, x) => a + x, 0);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(imp.contextVariance!.pooled[0]).toBeCloseTo(sum / W, 6);
    expect(imp.contextVariance!.pooled[0]).toBeGreaterThan(0);
  });

  it('is refitted by a fine-tune on its own data, not kept from the parent; without the setting a model carries none', async () => {
    const timestamps = Float64Array.from({ length: rows }, (_, i) => i * 1000);
    const louder = Float64Array.from(values, (v, i) => v + 2 * noise[(i * 7) % rows]);
    const tuned = await fineTune(model, { values: louder, channels: ['temp'], timestamps }, { epochs: 1 });
    const plain = await train({ values, channels: ['temp'], timestamps }, { ...cfg, contextCalibration: false, contextVariancePrior: 0 });
    try {
      const parentKnots = model.manifest.imputation!.contextCalibration!.knots[0]!;
      const tunedKnots = tuned.manifest.imputation!.contextCalibration!.knots[0]!;
      expect(tunedKnots).toHaveLength(parentKnots.length);
      expect(tunedKnots).not.toEqual(parentKnots);
      expect(plain.manifest.imputation!.contextCalibration).toBeUndefined();
      expect(plain.manifest.imputation!.contextVariance).toBeUndefined();
      expect(tuned.manifest.imputation!.contextVariance!.pooled[0]).not.toBe(model.manifest.imputation!.contextVariance!.pooled[0]);
    } finally {
      tuned.dispose();
      plain.dispose();
    }
  });
});
