import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/errors.ts';
import { resolveModelConfig, type ModelConfig } from '../../../src/model/modelConfig.ts';
import { prepareSeries, registerTransposeFreeMatMulGradient, train, validationLoss, type TrainProgress } from '../../../src/model/trainer.ts';
import { maxAbsDiff, useBackend } from './helpers.ts';

const N = 400;
const values = Float64Array.from({ length: N }, (_, i) => 20 + 5 * Math.sin(i / 3) + (i % 7) * 0.1);
const timestamps = Float64Array.from({ length: N }, (_, i) => 1_700_000_000_000 + i * 60_000);
const series = { values, channels: ['load'], timestamps };
const tiny: Partial<ModelConfig> = { windowLength: 16, width: 8, depth: 2, embedDim: 8, T: 50, t0: 15, epochs: 2, stride: 2 };

const weightsOf = (m: { denoiser: { getWeights(): tf.NamedTensorMap } }) =>
  Object.fromEntries(Object.entries(m.denoiser.getWeights()).map(([k, v]) => [k, Array.from(v.dataSync())]));

describe('train', () => {
  beforeAll(() => useBackend('wasm'));

  it('is deterministic: the same seed gives the same weights and loss curve, another seed does not', async () => {
    const a = await train(series, { ...tiny, seed: 3 });
    const b = await train(series, { ...tiny, seed: 3 });
    const c = await train(series, { ...tiny, seed: 4 });
    expect(b.manifest.losses).toEqual(a.manifest.losses);
    expect(weightsOf(b)).toEqual(weightsOf(a));
    expect(b.manifest.version).toBe(a.manifest.version);
    expect(c.manifest.losses.train).not.toEqual(a.manifest.losses.train);
    expect(c.manifest.version).not.toBe(a.manifest.version);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('records the split, the training-only scaler and ordered validation score quantiles in the manifest', async () => {
    // The validation part sits 1000 units higher: a scaler fitted on all rows would centre near it.
    const shifted = Float64Array.from(values, (v, i) => (i >= 300 ? v + 1000 : v));
    const m = await train({ ...series, values: shifted }, { ...tiny, validationFraction: 0.2 });
    const { trainingData, normalization, validationScores: q, losses } = m.manifest;
    // 193 windows (stride 2) → 39 validate, starting at row 384 - 2·38 = 308; training windows end ≤ 308 - 16.
    expect(trainingData).toMatchObject({ rows: N, validationWindows: 39, firstTimestamp: timestamps[0], lastTimestamp: timestamps[N - 1] });
    expect(trainingData.trainRows).toBeLessThanOrEqual(292);
    expect(normalization.center[0]).toBeGreaterThan(15);
    expect(normalization.center[0]).toBeLessThan(25);
    expect(q.windows).toBe(39);
    const ordered = [q.p50, q.p90, q.p95, q.p99, q.p999, q.max];
    expect(ordered).toEqual([...ordered].sort((x, y) => x - y));
    expect(q.p50).toBeGreaterThan(0);
    expect(losses.train).toHaveLength(2);
    expect(losses.bestValidation).toBe(Math.min(...losses.validation));
    m.dispose();
  });

  it('stops early after `patience` epochs without improvement and keeps the best epoch\'s weights', async () => {
    // lr 0.9 diverges within a few epochs on this series, so an early epoch stays the best.
    const cfg = { ...tiny, lr: 0.9, epochs: 8, patience: 1, seed: 1 };
    const stopped = await train(series, cfg);
    const { losses } = stopped.manifest;
    expect(losses.bestEpoch).toBeLessThan(losses.validation.length);
    expect(losses.validation).toHaveLength(losses.bestEpoch + 2); // best, then patience + 1 worse epochs
    const upToBest = await train(series, { ...cfg, epochs: losses.bestEpoch });
    expect(weightsOf(stopped)).toEqual(weightsOf(upToBest));
    [stopped, upToBest].forEach((m) => m.dispose());
  });

  it('reports progress every step, validation once per epoch, and leaks no tensor', async () => {
    const before = tf.memory().numTensors;
    const events: (TrainProgress & { tensors: number })[] = [];
    const m = await train(series, { ...tiny, epochs: 3, patience: 5 }, { onProgress: (p) => events.push({ ...p, tensors: tf.memory().numTensors }) });
    const perEpoch = events[0].stepsPerEpoch;
    expect(perEpoch).toBe(Math.ceil(m.manifest.trainingData.trainWindows / 64));
    expect(events).toHaveLength(3 * perEpoch);
    expect(events.filter((e) => e.valLoss !== undefined).map((e) => [e.epoch, e.step])).toEqual([1, 2, 3].map((ep) => [ep, perEpoch]));
    expect(events[events.length - 1].etaMs).toBe(0);
    // From the second epoch on (optimizer slots and the best-weights snapshot exist), the count is flat.
    const later = events.filter((e) => e.epoch >= 2).map((e) => e.tensors);
    expect(new Set(later).size).toBe(1);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the transpose-free matMul gradient equals the analytic one for every transpose combination', () => {
    registerTransposeFreeMatMulGradient();
    tf.tidy(() => {
      const A = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 1); // [batch, M, K]
      const B = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 2); // [batch, K, N]
      const R = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 3); // weights of the loss Σ R ⊙ (A·B)
      const T = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]);
      // d/dA Σ R ⊙ (A·B) = R·Bᵀ and d/dB = Aᵀ·R, computed without any gradient code.
      const [wantA, wantB] = [tf.matMul(R, T(B)), tf.matMul(T(A), R)];
      for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]]) {
        const a = tA ? T(A) : A;
        const b = tB ? T(B) : B;
        const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(R, tf.matMul(x, y, tA, tB))))([a, b]);
        expect(maxAbsDiff(ga, tA ? T(wantA) : wantA)).toBeLessThan(1e-5);
        expect(maxAbsDiff(gb, tB ? T(wantB) : wantB)).toBeLessThan(1e-5);
      }
    });
  });

  it('keeps the averaged weights it validated (emaDecay), not the last Adam iterate', async () => {
    const cfg = { ...tiny, scoring: 'reconstruction' as const, epochs: 4, seed: 5 };
    const val = prepareSeries(series, resolveModelConfig(cfg)).val;
    const lossOf = (m: Awaited<ReturnType<typeof train>>) => validationLoss(m.denoiser, m.diffusion, val, 16, 1, 256);
    const averaged = await train(series, { ...cfg, emaDecay: 0.9 });
    const raw = await train(series, { ...cfg, emaDecay: 0 });
    // The kept net scores exactly the validation loss recorded for its best epoch.
    expect(lossOf(averaged)).toBeCloseTo(averaged.manifest.losses.bestValidation, 6);
    expect(lossOf(raw)).toBeCloseTo(raw.manifest.losses.bestValidation, 6);
    // Same seed, same steps: the training curves agree, the kept weights and the validation curves do not.
    expect(averaged.manifest.losses.train).toEqual(raw.manifest.losses.train.slice(0, averaged.manifest.losses.train.length));
    expect(maxAbsDiff(averaged.denoiser.getWeights()['inProj/kernel'], raw.denoiser.getWeights()['inProj/kernel'])).toBeGreaterThan(1e-4);
    expect(averaged.manifest.losses.validation[0]).not.toBeCloseTo(raw.manifest.losses.validation[0], 6);
    [averaged, raw].forEach((m) => m.dispose());
  });

  it('refuses a series too short to split', async () => {
    await expect(train({ ...series, values: values.subarray(0, 30), timestamps: timestamps.subarray(0, 30) }, tiny)).rejects.toThrow(ModelError);
  });
});
