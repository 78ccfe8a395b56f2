import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ModelError } from '../../../src/errors.ts';
import { FILES, loadCheckpoint, modelVersion, saveCheckpoint, type TrainedModel } from '../../../src/model/checkpoint.ts';
import { fineTune } from '../../../src/model/fineTune.ts';
import type { ModelConfig } from '../../../src/model/modelConfig.ts';
import { train, type TrainSeries } from '../../../src/model/trainer.ts';
import { scoreWindows } from '../../../src/model/windowScorer.ts';
import { gatherWindows, splitWindows, windowTimestamps } from '../../../src/model/windows.ts';
import { randomModel } from './diffusionScorer.fixture.ts';
import { useBackend } from './helpers.ts';

const N = 400;
const L = 16;
const tiny: Partial<ModelConfig> = { windowLength: L, width: 8, depth: 2, embedDim: 8, T: 50, t0: 15, epochs: 3, stride: 2, lr: 1e-2, seed: 2 };

/** A sine around `level` with amplitude 5·gain; `phase` moves it to another stretch of time. */
function makeSeries(level = 20, gain = 1, phase = 0): TrainSeries {
  const values = Float64Array.from({ length: N }, (_, i) => level + gain * (5 * Math.sin((i + phase) / 3) + ((i + phase) % 7) * 0.1));
  const timestamps = Float64Array.from({ length: N }, (_, i) => 1_700_000_000_000 + (i + phase) * 60_000);
  return { values, channels: ['load'], timestamps };
}

const weightsOf = (m: TrainedModel) => Object.fromEntries(Object.entries(m.denoiser.getWeights()).map(([k, v]) => [k, Array.from(v.dataSync())]));

function maxWeightDiff(a: TrainedModel, b: TrainedModel): number {
  const [wa, wb] = [weightsOf(a), weightsOf(b)];
  return Math.max(...Object.keys(wa).flatMap((k) => wa[k].map((v, i) => Math.abs(v - wb[k][i]))));
}

/** Window scores of the series' validation windows (the ones fine-tuning holds out), scored by `model`. */
function validationScores(model: TrainedModel, s: TrainSeries): Float32Array {
  const { validation } = splitWindows(N, L, 2, 0.2);
  return scoreWindows(model, gatherWindows(s.values, 1, L, validation), validation.length, { timestamps: windowTimestamps(s.timestamps, L, validation) }).windowScores;
}

const p99 = (xs: Float32Array) => Float64Array.from(xs).sort()[Math.floor(0.99 * (xs.length - 1))];

describe('fineTune', () => {
  let base: TrainedModel;
  let root: string;

  beforeAll(async () => {
    await useBackend('wasm');
    root = await mkdtemp(join(tmpdir(), 'diffwatch-ft-'));
    base = await train(makeSeries(), tiny);
  });
  afterAll(async () => {
    base?.dispose();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('keeps the parent\'s architecture and scoring settings, names it as parent, and records the new data, lr and losses', async () => {
    const next = makeSeries(20, 1, 900);
    const tuned = await fineTune(base, next, {});
    const m = tuned.manifest;
    const b = base.manifest;
    expect(m.parent).toBe(b.version);
    expect(m.version).toMatch(/^[0-9a-f]{16}$/);
    expect(m.version).not.toBe(b.version);
    expect({ schedule: m.schedule, denoiser: m.denoiser, windowLength: m.windowLength, channels: m.channels, t0: m.t0, steps: m.steps, draws: m.draws, scoreSeed: m.scoreSeed }).toEqual({
      schedule: b.schedule, denoiser: b.denoiser, windowLength: b.windowLength, channels: b.channels, t0: b.t0, steps: b.steps, draws: b.draws, scoreSeed: b.scoreSeed,
    });
    expect(m.trainingData).toMatchObject({ rows: N, firstTimestamp: next.timestamps[0], lastTimestamp: next.timestamps[N - 1] });
    expect(m.trainingData.firstTimestamp).toBeGreaterThan(b.trainingData.lastTimestamp);
    expect(m.training).toMatchObject({ epochs: 3, lr: b.training.lr / 4, width: b.training.width, seed: b.seed });
    expect(m.losses.validation.length).toBeGreaterThan(0);
    expect(m.losses.validation.length).toBeLessThanOrEqual(3);
    expect(m.losses.train).toHaveLength(m.losses.validation.length);
    expect(m.validationScores.windows).toBe(m.trainingData.validationWindows);
    // Fresh quantiles: recomputed from the fine-tuned model on the new validation windows.
    expect(m.validationScores.max).toBeCloseTo(Math.max(...validationScores(tuned, next)), 6);
    expect(m.validationScores.p50).toBeGreaterThan(0);
    tuned.dispose();
    expect(base.manifest).not.toHaveProperty('parent');
  });

  it('leaves the parent unchanged and usable, and leaks no tensor', async () => {
    const manifestBefore = structuredClone(base.manifest);
    const weightsBefore = weightsOf(base);
    const series = makeSeries();
    const windows = gatherWindows(series.values, 1, L, [0, 50, 200]);
    const at = { timestamps: windowTimestamps(series.timestamps, L, [0, 50, 200]) };
    const scoresBefore = scoreWindows(base, windows, 3, at).windowScores;
    const tensorsBefore = tf.memory().numTensors;
    const tuned = await fineTune(base, makeSeries(35, 2, 900), { epochs: 2 });
    expect(maxWeightDiff(tuned, base)).toBeGreaterThan(1e-4); // it did train
    tuned.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(base.manifest).toEqual(manifestBefore);
    expect(weightsOf(base)).toEqual(weightsBefore);
    expect(scoreWindows(base, windows, 3, at).windowScores).toEqual(scoresBefore);
  });

  it('is deterministic: the same seed gives the same weights and version, another seed another version', async () => {
    const next = makeSeries(20, 1, 500);
    const a = await fineTune(base, next, { seed: 11 });
    const b = await fineTune(base, next, { seed: 11 });
    const c = await fineTune(base, next, { seed: 12 });
    expect(b.manifest.version).toBe(a.manifest.version);
    expect(weightsOf(b)).toEqual(weightsOf(a));
    expect(c.manifest.version).not.toBe(a.manifest.version);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('starts from the parent\'s weights, not from a fresh initialisation', async () => {
    const tuned = await fineTune(base, makeSeries(20, 1, 900), { epochs: 1, lr: 1e-7 });
    const fresh = await train(makeSeries(), { ...tiny, epochs: 1, lr: 1e-7 });
    expect(maxWeightDiff(tuned, base)).toBeLessThan(1e-4);
    expect(maxWeightDiff(fresh, base)).toBeGreaterThan(1e-2); // what a re-initialised net would look like
    [tuned, fresh].forEach((m) => m.dispose());
  });

  it('keeps the parent\'s weights when no epoch beats them on the new validation windows', async () => {
    // lr 0.5 throws the weights far off the minimum: every epoch validates worse than the start.
    const tuned = await fineTune(base, makeSeries(20, 1, 900), { epochs: 2, lr: 0.5, patience: 5 });
    const { losses } = tuned.manifest;
    expect(losses.bestEpoch).toBe(0);
    expect(losses.validation).toHaveLength(2);
    expect(losses.validation.every((v) => v > losses.bestValidation)).toBe(true);
    expect(weightsOf(tuned)).toEqual(weightsOf(base));
    expect(tuned.manifest.version).not.toBe(base.manifest.version); // the manifest (data, losses) differs
    tuned.dispose();
  });

  it('refits the scaler after a level and scale shift, so the input is centred on the new normal; refitNormalization: false keeps the parent\'s', async () => {
    const shifted = makeSeries(100, 2, 900);
    // The raw context NLL, so that a score is a function of the weights and the scaler alone: a
    // fine-tune refits the context calibration on its own data (imputationScorer.test.ts).
    const base = await train(makeSeries(), { ...tiny, contextCalibration: false });
    // lr ≈ 0: the weights stay the parent's, so only the scaler differs between the two.
    const still = { epochs: 1, lr: 1e-7 };
    const refit = await fineTune(base, shifted, still);
    const kept = await fineTune(base, shifted, { ...still, refitNormalization: false });
    const { center, scale } = refit.manifest.normalization;
    const bn = base.manifest.normalization;
    // Another stretch of the same sine: the median moves with the level, the spread with the gain.
    expect(Math.abs(center[0] - (100 + 2 * (bn.center[0] - 20)))).toBeLessThan(0.5 * bn.scale[0]);
    expect(scale[0] / bn.scale[0]).toBeGreaterThan(1.8);
    expect(scale[0] / bn.scale[0]).toBeLessThan(2.2);
    expect(kept.manifest.normalization).toEqual(bn);
    // Refitted, the shifted stretch scores as the parent scores the same stretch unshifted; kept, as the parent scores the shift.
    const parentOnShift = p99(validationScores(base, shifted));
    const parentUnshifted = p99(validationScores(base, makeSeries(20, 1, 900)));
    expect(parentOnShift).toBeGreaterThan(3 * parentUnshifted);
    expect(refit.manifest.validationScores.p99 / parentUnshifted).toBeGreaterThan(0.7);
    expect(refit.manifest.validationScores.p99 / parentUnshifted).toBeLessThan(1.3);
    expect(kept.manifest.validationScores.p99 / parentOnShift).toBeCloseTo(1, 1);
    [base, refit, kept].forEach((m) => m.dispose());
  });

  it('after a shift, the fine-tuned model (defaults) scores the new normal far below what the parent gives it', async () => {
    const shifted = makeSeries(100, 2, 900);
    const tuned = await fineTune(base, shifted);
    expect(tuned.manifest.validationScores.p99).toBeLessThan(p99(validationScores(base, shifted)) / 3);
    tuned.dispose();
  });

  it('saves and loads with its parent; a manifest with a malformed parent is refused', async () => {
    const tuned = await fineTune(base, makeSeries(20, 1, 900), { epochs: 1 });
    const dir = join(root, 'tuned');
    expect(await saveCheckpoint(dir, tuned)).toBe(tuned.manifest.version);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.manifest).toEqual(tuned.manifest);
    expect(loaded.manifest.parent).toBe(base.manifest.version);
    loaded.dispose();
    tuned.dispose();
    const path = join(dir, FILES.manifest);
    const m = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...m, parent: 42 }));
    await expect(loadCheckpoint(dir)).rejects.toMatchObject({ code: 'MODEL_INVALID', coords: { field: 'parent' } });
  });

  it('hashes an unsaved parent for `parent`, and refuses other channels and bad options', async () => {
    const unsaved = randomModel({ channels: ['load'], windowLength: L, seed: 4 });
    expect(unsaved.manifest.version).toBe('');
    const tuned = await fineTune(unsaved, makeSeries(), { epochs: 1 });
    expect(tuned.manifest.parent).toBe(await modelVersion(unsaved));
    tuned.dispose();
    await expect(fineTune(unsaved, { ...makeSeries(), channels: ['temp'] }, { epochs: 1 })).rejects.toMatchObject({ code: 'MODEL_MISMATCH', coords: { expected: ['load'], actual: ['temp'] } });
    await expect(fineTune(unsaved, makeSeries(), { lr: 2 })).rejects.toMatchObject({ code: 'CONFIG_INVALID', coords: { key: 'fineTune.lr' } });
    await expect(fineTune(unsaved, makeSeries(), { width: 4 } as never)).rejects.toBeInstanceOf(ConfigError);
    await expect(fineTune(unsaved, { ...makeSeries(), values: new Float64Array(10) })).rejects.toBeInstanceOf(ModelError);
    unsaved.dispose();
  });
});
