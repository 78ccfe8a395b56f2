import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/errors.ts';
import type { TrainedModel } from '../../../src/model/checkpoint.ts';
import { combineEvidence } from '../../../src/model/channelCalibration.ts';
import { imputeChunk } from '../../../src/model/imputationScorer.ts';
import { entityConditioningScaler } from '../../../src/model/imputationSpec.ts';
import { normalize } from '../../../src/model/normalization.ts';
import { gaussians } from '../../../src/random.ts';
import { seededRng } from '../../../src/model/diffusion.ts';
import { fitRobustScaler } from '../../../src/model/normalization.ts';
import { fineTune } from '../../../src/model/fineTune.ts';
import { train } from '../../../src/model/trainer.ts';
import { scoreWindows } from '../../../src/model/windowScorer.ts';
import { gatherWindows, windowStarts, windowTimestamps } from '../../../src/model/windows.ts';
import { useBackend } from './helpers.ts';

const L = 16;
const C = 2;
const N = 640;

/** Two periodic channels in different units: a period-16 sine around 50 (±10) and a period-8 square wave of ±1. */
function series(): Float64Array {
  const v = new Float64Array(N * C);
  for (let i = 0; i < N; i++) {
    v[i * C] = 50 + 10 * Math.sin((2 * Math.PI * i) / 16);
    v[i * C + 1] = i % 8 < 4 ? 1 : -1;
  }
  return v;
}

describe('scoreWindows (reconstruction)', () => {
  let model: TrainedModel;
  const values = series();
  const windows = gatherWindows(values, C, L, windowStarts(N, L, 1).slice(0, 6)); // [6, L, C]

  beforeAll(async () => {
    await useBackend('wasm');
    const timestamps = Float64Array.from({ length: N }, (_, i) => i * 1000);
    model = await train({ values, channels: ['temp', 'flag'], timestamps }, { windowLength: L, width: 8, depth: 2, embedDim: 8, T: 50, t0: 15, draws: 2, epochs: 4, lr: 1e-2, batchSize: 32, stride: 2, scoring: 'reconstruction' });
  });
  afterAll(() => model.dispose());

  it('returns [B, L] point scores, [B, C] contributions summing to 1, and the newest point as the window score', () => {
    const r = scoreWindows(model, windows, 6);
    expect(r.pointScores).toHaveLength(6 * L);
    expect(r.channelContributions).toHaveLength(6 * C);
    expect(r.windowScores).toHaveLength(6);
    expect(r.reconstruction).toBeUndefined();
    for (let b = 0; b < 6; b++) {
      expect(r.windowScores[b]).toBe(r.pointScores[b * L + L - 1]);
      expect(r.channelContributions[b * C] + r.channelContributions[b * C + 1]).toBeCloseTo(1, 5);
    }
  });

  it('point score = mean over channels of the squared error in scaled units; contributions are the newest point\'s shares', () => {
    const r = scoreWindows(model, windows, 6, { reconstruction: true });
    const { center, scale } = model.manifest.normalization;
    expect(center[0]).toBeCloseTo(50, 0);
    for (let b = 0; b < 6; b++) {
      for (let i = 0; i < L; i++) {
        const e = [0, 1].map((c) => ((r.reconstruction![(b * L + i) * C + c] - windows[(b * L + i) * C + c]) / scale[c]) ** 2);
        expect(r.pointScores[b * L + i]).toBeCloseTo((e[0] + e[1]) / 2, 3);
        if (i === L - 1) expect(r.channelContributions[b * C]).toBeCloseTo(e[0] / (e[0] + e[1]), 3);
      }
    }
  });

  it('with window centering, the reconstruction is shifted back to raw units', () => {
    const centred: TrainedModel = { ...model, manifest: { ...model.manifest, normalization: { ...model.manifest.normalization, windowCentering: true } } };
    const r = scoreWindows(centred, windows, 6, { reconstruction: true });
    const { scale } = model.manifest.normalization;
    const e = [0, 1].map((c) => ((r.reconstruction![(L - 1) * C + c] - windows[(L - 1) * C + c]) / scale[c]) ** 2);
    expect(r.windowScores[0]).toBeCloseTo((e[0] + e[1]) / 2, 3);
    // The raw reconstruction lives around the raw level (50), not around 0.
    expect(Math.abs(r.reconstruction![0] - windows[0])).toBeLessThan(10);
  });

  it('gives a window the same score alone, in a batch, and whatever the chunk size', () => {
    const all = scoreWindows(model, windows, 6).windowScores;
    const chunked = scoreWindows(model, windows, 6, { batchSize: 4 }).windowScores;
    const alone = scoreWindows(model, windows.slice(3 * L * C, 4 * L * C), 1).windowScores;
    for (let b = 0; b < 6; b++) expect(chunked[b]).toBeCloseTo(all[b], 5);
    expect(alone[0]).toBeCloseTo(all[3], 5);
    expect(scoreWindows(model, windows, 6).windowScores).toEqual(all);
  });

  it('scores a spike at the newest point far above every normal window, and blames its channel', () => {
    const normal = scoreWindows(model, gatherWindows(values, C, L, windowStarts(N, L, 1)), N - L + 1).windowScores;
    const spiked = windows.slice(0, L * C);
    spiked[(L - 1) * C] += 40; // +4 scale units of the temp channel at the newest point
    const r = scoreWindows(model, spiked, 1);
    expect(r.windowScores[0]).toBeGreaterThan(3 * Math.max(...normal));
    expect(r.channelContributions[0]).toBeGreaterThan(0.9);
  });

  it('scores with an entity\'s own scaler: a shifted, rescaled copy scores like the original; without it, far higher', () => {
    // Per channel x' = gain·x + offset, as another entity of the same kind would read.
    const gain = [3, 0.5];
    const offset = [100, -7];
    const copy = Float64Array.from(values, (v, i) => gain[i % C] * v + offset[i % C]);
    const { trainRows } = model.manifest.trainingData;
    const own = fitRobustScaler(copy.subarray(0, trainRows * C), C);
    const starts = windowStarts(N, L, 7);
    const [orig, moved] = [values, copy].map((v) => gatherWindows(v, C, L, starts));
    const want = scoreWindows(model, orig, starts.length, { reconstruction: true });
    const got = scoreWindows(model, moved, starts.length, { reconstruction: true, normalization: own });
    const without = scoreWindows(model, moved, starts.length).windowScores;
    for (let b = 0; b < starts.length; b++) {
      expect(Math.abs(got.windowScores[b] - want.windowScores[b])).toBeLessThan(1e-4 + 1e-3 * want.windowScores[b]);
      expect(without[b]).toBeGreaterThan(10 * Math.max(want.windowScores[b], 0.01));
    }
    // The reconstruction comes back in the entity's units.
    for (let i = 0; i < L * C; i++) expect(got.reconstruction![i]).toBeCloseTo(gain[i % C] * want.reconstruction![i] + offset[i % C], 2);
    // Scaling is linear in the statistics: the model's own, passed explicitly, changes nothing.
    expect(scoreWindows(model, orig, starts.length, { normalization: model.manifest.normalization }).windowScores).toEqual(want.windowScores);
  });

  it('refuses an entity scaler with the wrong channel count or a non-positive scale', () => {
    expect(() => scoreWindows(model, windows, 6, { normalization: { center: [0], scale: [1] } })).toThrow(expect.objectContaining({ code: 'MODEL_MISMATCH' }));
    expect(() => scoreWindows(model, windows, 6, { normalization: { center: [0, 0], scale: [1, 0] } })).toThrow(expect.objectContaining({ code: 'MODEL_INVALID', coords: { field: 'normalization.flag' } }));
  });

  it('rejects windows of the wrong size with MODEL_MISMATCH', () => {
    expect(() => scoreWindows(model, new Float32Array(L * C + 1), 1)).toThrow(ModelError);
  });

  it('leaks no tensor over 100 calls', () => {
    scoreWindows(model, windows, 6);
    const before = tf.memory().numTensors;
    for (let k = 0; k < 100; k++) scoreWindows(model, windows.subarray(0, (2 + (k % 4)) * L * C), 2 + (k % 4), { reconstruction: k % 2 === 0, batchSize: 3 });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('scoreWindows (imputation) with an entity\'s own scaler', () => {
  let model: TrainedModel;
  const values = series();
  const timestamps = Float64Array.from({ length: N }, (_, i) => i * 1000);
  /** Point timestamps `[B, L]` of the windows starting at `starts` (the model takes calendar features). */
  const stampsOf = (starts: number[]) => Float64Array.from({ length: starts.length * L }, (_, k) => timestamps[starts[Math.floor(k / L)] + (k % L)]);

  beforeAll(async () => {
    await useBackend('wasm');
    // The raw context NLL: on this noise-free sine the validation windows hold a few distinct NLLs,
    // the calibration's knots tie there, and a rounding-level difference at a tie would move a
    // score across it. The scaler is what these tests check; the calibration has its own
    // (imputationScorer.test.ts).
    model = await train({ values, channels: ['temp', 'flag'], timestamps }, { windowLength: L, width: 8, depth: 2, embedDim: 8, epochs: 4, lr: 1e-2, batchSize: 32, stride: 2, scoring: 'imputation', contextCalibration: false });
  });
  afterAll(() => model.dispose());

  it('scores a copy whose analogue channel is rescaled and whose flag reads 3/7 like the original, and flags a state never seen', () => {
    // The square wave is a conditioning channel (two levels): the entity's own levels map onto the model's.
    expect(model.manifest.imputation!.targets).toEqual([true, false]);
    const copy = Float64Array.from(values, (v, i) => (i % C === 0 ? 3 * v + 100 : v > 0 ? 7 : 3));
    const own = entityConditioningScaler(copy.subarray(0, model.manifest.trainingData.trainRows * C), C, model.manifest.imputation!);
    const starts = windowStarts(N, L, 7);
    const [orig, moved] = [values, copy].map((v) => gatherWindows(v, C, L, starts));
    const at = { timestamps: stampsOf(starts) };
    const want = scoreWindows(model, orig, starts.length, at).windowScores;
    const got = scoreWindows(model, moved, starts.length, { ...at, normalization: own }).windowScores;
    for (let b = 0; b < starts.length; b++) expect(Math.abs(got[b] - want[b])).toBeLessThan(1e-3 + 1e-3 * want[b]);
    // The square wave's changes say nothing of the sine's (the two are orthogonal), so the net does
    // not read it (conditioningRelation.ts): even a robust scaler, which puts its states dozens of
    // floor units from the training levels, changes no score, since a state held in the window is not new.
    expect(model.manifest.imputation!.reads).toEqual([true, false]);
    const robust = scoreWindows(model, moved, starts.length, { ...at, normalization: fitRobustScaler(copy.subarray(0, model.manifest.trainingData.trainRows * C), C) }).windowScores;
    for (let b = 0; b < starts.length; b++) expect(Math.abs(robust[b] - want[b])).toBeLessThan(1e-3 + 1e-3 * want[b]);
    // A flag value the entity never showed in training is novelty, in the flag's channel: the
    // surprise of a value that n training rows never showed, ln(n + 1), where it first appears.
    const cap = Math.log(model.manifest.trainingData.trainRows + 1);
    const first = { timestamps: stampsOf(starts.slice(0, 1)), normalization: own };
    const odd = moved.slice(0, L * C);
    odd[(L - 1) * C + 1] = 11;
    const r = scoreWindows(model, odd, 1, first);
    expect(r.channelContributions[1] * r.windowScores[0]).toBeCloseTo(cap, 3);
    // The net is fed the flag inside its training range, so the analogue channel's evidence stays that of a normal window.
    const usual = scoreWindows(model, moved.slice(0, L * C), 1, first).windowScores[0];
    expect(r.channelContributions[0] * r.windowScores[0]).toBeLessThan(3 * usual + 1);
    // Held: the same value earlier in the window is not new again.
    const held = odd.slice();
    held[(L - 2) * C + 1] = 11;
    const h = scoreWindows(model, held, 1, first);
    expect(h.channelContributions[1]).toBe(0);
  });

  it('attributes the window score exactly: share × score is each channel\'s own evidence per target channel, and the terms sum to the score', () => {
    const starts = windowStarts(N, L, 5);
    const windows = gatherWindows(values, C, L, starts);
    const spiked = windows.slice();
    spiked[(L - 1) * C] += 30; // the analogue channel of the first window's newest point
    spiked[(2 * L - 1) * C + 1] = 5; // a flag value never seen, in the second window
    const B = starts.length;
    const stamps = stampsOf(starts);
    const r = scoreWindows(model, spiked, B, { timestamps: stamps });
    const imp = model.manifest.imputation!;
    // The evidence, computed apart from scoreWindows with the model's own noise (scoreSeed) and scaler.
    const noise = Float32Array.from(gaussians(seededRng(model.manifest.scoreSeed), imp.draws * L * C));
    const { evidence } = imputeChunk(model, imp, { z: normalize(model.manifest.normalization, spiked), b: B, noise, timestamps: stamps });
    const targets = imp.targets.filter(Boolean).length;
    for (let b = 0; b < B; b++) {
      let sum = 0;
      for (let c = 0; c < C; c++) {
        const term = r.channelContributions[b * C + c] * r.windowScores[b];
        expect(term).toBeCloseTo(evidence[b * C + c] / targets, 3);
        sum += term;
      }
      expect(sum).toBeCloseTo(r.windowScores[b], 3);
    }
    // The two injected faults are blamed on their own channels; the never-seen flag value scores ln(n + 1).
    expect(r.channelContributions[0]).toBeGreaterThan(0.9);
    expect(r.channelContributions[C + 1] * r.windowScores[1]).toBeCloseTo(Math.log(model.manifest.trainingData.trainRows + 1), 3);
  });
});

describe('scoreWindows (imputation) with two analogue channels', () => {
  const C3 = 3;
  let model: TrainedModel;
  /** `series()`'s sine, a cosine in other units, and the square wave as a command. */
  const values = Float64Array.from({ length: N * C3 }, (_, k) => {
    const i = Math.floor(k / C3);
    const c = k % C3;
    return c === 0 ? 50 + 10 * Math.sin((2 * Math.PI * i) / 16) : c === 1 ? 3 + 0.2 * Math.cos((2 * Math.PI * i) / 16) : i % 8 < 4 ? 1 : -1;
  });
  const timestamps = Float64Array.from({ length: N }, (_, i) => i * 1000);
  const stampsOf = (starts: number[]) => Float64Array.from({ length: starts.length * L }, (_, k) => timestamps[starts[Math.floor(k / L)] + (k % L)]);

  beforeAll(async () => {
    await useBackend('wasm');
    model = await train({ values, channels: ['temp', 'volts', 'flag'], timestamps }, { windowLength: L, width: 8, depth: 2, embedDim: 8, epochs: 4, lr: 1e-2, batchSize: 32, stride: 2, scoring: 'imputation' });
  });
  afterAll(() => model.dispose());

  it('calibrates each target channel on the validation windows and scores the harmonic-mean combination of their evidence', () => {
    const cal = model.manifest.imputation!.channelCalibration!;
    expect(cal.knots.map((k) => k !== null)).toEqual([true, true, false]);
    const starts = windowStarts(N, L, 5);
    const windows = gatherWindows(values, C3, L, starts);
    windows[(L - 1) * C3 + 1] += 2; // ten of volts' amplitudes, on the first window's newest point
    const B = starts.length;
    const stamps = stampsOf(starts);
    const r = scoreWindows(model, windows, B, { timestamps: stamps });
    const imp = model.manifest.imputation!;
    const noise = Float32Array.from(gaussians(seededRng(model.manifest.scoreSeed), imp.draws * L * C3));
    const { evidence } = imputeChunk(model, imp, { z: normalize(model.manifest.normalization, windows), b: B, noise, timestamps: stamps });
    for (let b = 0; b < B; b++) {
      const want = combineEvidence(evidence.subarray(b * C3, (b + 1) * C3), cal);
      expect(Math.abs(r.windowScores[b] - want.score)).toBeLessThan(1e-4 * (1 + want.score)); // float32 out
      let sum = 0;
      for (let c = 0; c < C3; c++) sum += r.channelContributions[b * C3 + c];
      expect(sum).toBeCloseTo(want.score > 0 ? 1 : 0, 5);
    }
    expect(r.windowScores[0]).toBe(Math.max(...r.windowScores));
    expect(r.channelContributions[1]).toBeGreaterThan(0.9);
    // The validation quantiles are of the same combined score.
    expect(model.manifest.validationScores.p50).toBeLessThan(r.windowScores[0]);
  });

  it('leaves a model with one target channel without a calibration (its evidence is its score)', async () => {
    const one = await train({ values: Float64Array.from({ length: N * 2 }, (_, k) => values[Math.floor(k / 2) * C3 + (k % 2 === 0 ? 0 : 2)]), channels: ['temp', 'flag'], timestamps }, { windowLength: L, width: 8, depth: 2, embedDim: 8, epochs: 1, batchSize: 32, stride: 2, scoring: 'imputation' });
    try {
      expect(one.manifest.imputation!.channelCalibration).toBeUndefined();
    } finally {
      one.dispose();
    }
  });
});

describe('scoreWindows (imputation) with window centering', () => {
  let model: TrainedModel;
  const values = series();
  const timestamps = Float64Array.from({ length: N }, (_, i) => i * 1000);

  beforeAll(async () => {
    await useBackend('wasm');
    // The raw context NLL, as above: calibrated, a rounding-level difference at a tied knot would move a score.
    model = await train({ values, channels: ['temp', 'flag'], timestamps }, { windowLength: L, width: 8, depth: 2, embedDim: 8, epochs: 4, lr: 1e-2, batchSize: 32, stride: 2, scoring: 'imputation', calendar: false, profileTest: false, dispersionTest: false, contextCalibration: false, windowCentering: true });
  });
  afterAll(() => model.dispose());

  it('feeds the net centred targets as it was trained: a window lifted far above the training range scores as it did, and the command keeps its levels', () => {
    expect(model.manifest.imputation!.targets).toEqual([true, false]);
    const starts = windowStarts(N, L, 7);
    const orig = gatherWindows(values, C, L, starts);
    // The sine lifted by 40 of its own amplitudes: a level the training rows never reached.
    const lifted = Float32Array.from(orig, (v, k) => (k % C === 0 ? v + 400 : v));
    const want = scoreWindows(model, orig, starts.length, { reconstruction: true });
    const got = scoreWindows(model, lifted, starts.length, { reconstruction: true });
    for (let b = 0; b < starts.length; b++) expect(Math.abs(got.windowScores[b] - want.windowScores[b])).toBeLessThan(1e-3 + 1e-3 * want.windowScores[b]);
    // The flag was not centred: centred, a held state would read as a value never seen, and score as novelty.
    for (let b = 0; b < starts.length; b++) expect(got.channelContributions[b * C + 1]).toBe(0);
    // The imputed newest point comes back at the window's own level.
    for (let b = 0; b < starts.length; b++) {
      const k = (b * L + L - 1) * C;
      expect(got.reconstruction![k] - want.reconstruction![k]).toBeCloseTo(400, 1);
    }
  });
});

describe('scoreWindows (imputation) with trend centering', () => {
  let model: TrainedModel;
  // The sine on a trend that rises 3 amplitudes over the rows; the square wave as it was.
  const values = Float64Array.from(series(), (v, k) => (k % C === 0 ? v + (30 * Math.floor(k / C)) / N : v));
  // 640 rows 20 minutes apart: 8.9 days, a fit that spans a week.
  const timestamps = Float64Array.from({ length: N }, (_, i) => i * 1_200_000);
  const config = { windowLength: L, width: 8, depth: 2, embedDim: 8, epochs: 4, lr: 1e-2, batchSize: 32, stride: 2, scoring: 'imputation', calendar: false, profileTest: false, dispersionTest: false, contextCalibration: false, trendCentering: true } as const;

  const starts = windowStarts(N, L, 7);
  const orig = gatherWindows(values, C, L, starts);
  // Two amplitudes above the trend, where the level test finds it and the centred net cannot.
  const lifted = Float32Array.from(orig, (v, k) => (k % C === 0 ? v + 20 : v));

  beforeAll(async () => {
    await useBackend('wasm');
    model = await train({ values, channels: ['temp', 'flag'], timestamps }, config);
  });
  afterAll(() => model.dispose());

  it('centres nothing on a fit shorter than a week: seen in part, a weekly swing moves as a trend does', async () => {
    const short = await train({ values, channels: ['temp', 'flag'], timestamps: timestamps.map((t) => t / 100) }, { ...config, epochs: 1 });
    try {
      expect(short.manifest.imputation!.centred).toBeUndefined();
    } finally {
      short.dispose();
    }
  });

  it('centres the trending channel alone, in training and in scoring: without the level test, a window far above the training levels scores as it did', async () => {
    const shapeOnly = await train({ values, channels: ['temp', 'flag'], timestamps }, { ...config, trendLevelTest: false });
    try {
      expect(shapeOnly.manifest.normalization.windowCentering).toBe(false);
      expect(shapeOnly.manifest.imputation!.centred).toEqual([true, false]);
      expect(shapeOnly.manifest.imputation!.trendLevel).toBeUndefined();
      const want = scoreWindows(shapeOnly, orig, starts.length);
      const got = scoreWindows(shapeOnly, lifted, starts.length);
      for (let b = 0; b < starts.length; b++) expect(Math.abs(got.windowScores[b] - want.windowScores[b])).toBeLessThan(1e-3 + 1e-3 * want.windowScores[b]);
    } finally {
      shapeOnly.dispose();
    }
  });

  it('tests the centred channel\'s level against its trend: a window lifted off it outscores every window where the trend goes', () => {
    const level = model.manifest.imputation!.trendLevel!;
    expect(level.coef[0]).not.toBeNull();
    expect(level.coef[1]).toBeNull();
    const at = { timestamps: windowTimestamps(timestamps, L, starts) };
    const normal = scoreWindows(model, orig, starts.length, at);
    const got = scoreWindows(model, Float32Array.from(lifted), starts.length, at);
    const highest = Math.max(...normal.windowScores);
    for (let b = 0; b < starts.length; b++) {
      expect(got.windowScores[b]).toBeGreaterThan(highest);
      expect(got.channelContributions[b * C]).toBeGreaterThan(0.99);
    }
    expect(() => scoreWindows(model, orig, starts.length)).toThrow(expect.objectContaining({ code: 'MODEL_MISMATCH' }));
  });

  it('refits the level test on a fine-tune\'s rows, and keeps the parent\'s centred channels', async () => {
    // The same trend, 8.9 days on: the parent's line would be extrapolated that far.
    const later = { values: Float64Array.from(values, (v, k) => (k % C === 0 ? v + 30 : v)), channels: ['temp', 'flag'], timestamps: timestamps.map((t) => t + N * 1_200_000) };
    const tuned = await fineTune(model, later, { epochs: 1 });
    try {
      const imp = tuned.manifest.imputation!;
      expect(imp.centred).toEqual([true, false]);
      expect(imp.trendLevel!.origin).toBe(later.timestamps[0]);
      // The same rows from their own start, on their own refitted scaler: the same line (the time of day differs).
      const [a, slope] = imp.trendLevel!.coef[0]!;
      expect(a).toBeCloseTo(model.manifest.imputation!.trendLevel!.coef[0]![0], 4);
      expect(slope).toBeCloseTo(model.manifest.imputation!.trendLevel!.coef[0]![1], 4);
    } finally {
      tuned.dispose();
    }
  });
});
