import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Denoiser } from '../../../src/model/denoiser.ts';
import { GaussianDiffusion, seededRng } from '../../../src/model/diffusion.ts';
import { conditionInput, impute, imputationLoss, predictiveNll, readIndices } from '../../../src/model/imputation.ts';
import { makeNoiseSchedule } from '../../../src/model/noiseSchedule.ts';
import { newestPointMask, sampleMasks } from '../../../src/model/trainingObjective.ts';
import { maxAbsDiff, useBackend } from './helpers.ts';

const diffusion = new GaussianDiffusion(makeNoiseSchedule({ kind: 'cosine', T: 20 }));

describe('imputation', () => {
  beforeAll(() => useBackend('wasm'));

  it('masks: the newest point of target channels only; training masks end at the newest point', () => {
    expect(Array.from(newestPointMask(1, 3, [true, false]))).toEqual([0, 0, 0, 0, 1, 0]);
    const m = sampleMasks(200, 6, { targets: [true, false], imputeLength: 3, fullMaskRate: 0.5 }, seededRng(1));
    let full = 0;
    for (let w = 0; w < 200; w++) {
      const col = Array.from({ length: 6 }, (_, i) => m[(w * 6 + i) * 2]);
      expect(m.filter((_, k) => k >= w * 12 && k < (w + 1) * 12 && k % 2 === 1).every((v) => v === 0)).toBe(true);
      const h = col.filter((v) => v === 1).length;
      expect(col.slice(6 - h).every((v) => v === 1)).toBe(true);
      expect(h === 6 || (h >= 1 && h <= 3)).toBe(true);
      if (h === 6) full++;
    }
    expect(full).toBeGreaterThan(70);
    expect(full).toBeLessThan(130);
  });

  it('the loss ignores what the mask hides and the sampler keeps observed entries as given', () => {
    const net = new Denoiser({ channels: 2, condChannels: 4, width: 8, depth: 2, seed: 2 });
    tf.tidy(() => {
      const x0 = tf.randomNormal([3, 8, 2], 0, 1, 'float32', 5) as tf.Tensor3D;
      const mask = tf.tensor3d(newestPointMask(3, 8, [true, false]), [3, 8, 2]);
      const t = tf.tensor1d([3, 9, 15], 'int32');
      const noise = tf.randomNormal([3, 8, 2], 0, 1, 'float32', 6) as tf.Tensor3D;
      const a = imputationLoss(diffusion, net, x0, mask, { t, noise }).dataSync()[0];
      // Changing the noise where the mask is 0 changes neither the loss nor (through x_t ⊙ m) the input.
      const noise2 = tf.add(noise, tf.mul(tf.sub(1, mask), 7)) as tf.Tensor3D;
      expect(imputationLoss(diffusion, net, x0, mask, { t, noise: noise2 }).dataSync()[0]).toBeCloseTo(a, 5);
      expect(conditionInput(x0, mask).shape).toEqual([3, 8, 4]);
      const samples = impute(diffusion, net, x0, mask, { steps: 3, draws: 4, seed: 1 }); // [4, 3, 8, 2]
      expect(samples.shape).toEqual([4, 3, 8, 2]);
      const observed = tf.mul(tf.sub(1, mask), tf.sub(samples, x0));
      expect(maxAbsDiff(observed, tf.zerosLike(observed))).toBeLessThan(1e-6);
    });
    net.dispose();
  });

  it('a net that reads some channels sees only those: the same loss and draws as on the windows cut to them, whatever the others hold', () => {
    expect(readIndices(undefined)).toBeUndefined();
    expect(readIndices([true, true])).toBeUndefined();
    expect(readIndices([true, false, true, false])).toEqual([0, 2]);
    const reads = readIndices([true, false, true, false])!;
    const net = new Denoiser({ channels: 2, condChannels: 4, width: 8, depth: 2, seed: 3 }); // 2 of 4 channels
    tf.tidy(() => {
      const x0 = tf.randomNormal([3, 8, 4], 0, 1, 'float32', 7) as tf.Tensor3D; // channels 1 and 3 unread
      const mask = tf.tensor3d(newestPointMask(3, 8, [true, false, false, false]), [3, 8, 4]);
      const t = tf.tensor1d([2, 8, 14], 'int32');
      const noise = tf.randomNormal([3, 8, 4], 0, 1, 'float32', 8) as tf.Tensor3D;
      const cut = (x: tf.Tensor3D) => tf.gather(x, reads, 2) as tf.Tensor3D;
      const full = imputationLoss(diffusion, net, x0, mask, { t, noise, reads }).dataSync()[0];
      expect(full).toBeCloseTo(imputationLoss(diffusion, net, cut(x0), cut(mask), { t, noise: cut(noise) }).dataSync()[0], 5);
      // Anything in the unread channels changes nothing.
      const other = tf.add(x0, tf.tensor3d(Float32Array.from({ length: 3 * 8 * 4 }, (_, k) => (k % 2 === 1 ? 50 : 0)), [3, 8, 4])) as tf.Tensor3D;
      expect(imputationLoss(diffusion, net, other, mask, { t, noise, reads }).dataSync()[0]).toBeCloseTo(full, 5);
      const start = tf.randomNormal([2 * 3, 8, 4], 0, 1, 'float32', 9) as tf.Tensor3D;
      const a = impute(diffusion, net, x0, mask, { steps: 3, draws: 2, noise: start, reads }); // [2, 3, 8, 4]
      const b = impute(diffusion, net, cut(x0), cut(mask), { steps: 3, draws: 2, noise: cut(start) }); // [2, 3, 8, 2]
      expect(maxAbsDiff(tf.gather(a, reads, 3), b)).toBeLessThan(1e-5);
      expect(maxAbsDiff(tf.gather(a, [1, 3], 3), tf.stack([tf.gather(x0, [1, 3], 2), tf.gather(x0, [1, 3], 2)]))).toBe(0); // kept as observed
    });
    net.dispose();
  });

  it('nll is 0 at the mean with no spread, grows with the squared distance, and is never negative', () => {
    tf.tidy(() => {
      const draws = tf.tensor4d([1, 1, 1, 1], [4, 1, 1, 1]); // K = 4 identical draws of 1
      const mask = tf.ones([1, 1, 1]) as tf.Tensor3D;
      const at = (x: number) => predictiveNll(draws, tf.tensor3d([x], [1, 1, 1]), mask, 0.5).nll.dataSync()[0];
      expect(at(1)).toBeCloseTo(0, 6);
      expect(at(2)).toBeCloseTo(0.5 * (1 / 0.5) ** 2, 5);
      expect(at(3)).toBeCloseTo(4 * at(2), 4);
      const spread = tf.tensor4d([0, 2, 0, 2], [4, 1, 1, 1]); // mean 1, variance 1
      const wide = predictiveNll(spread, tf.tensor3d([2], [1, 1, 1]), mask, 0.5).nll.dataSync()[0];
      expect(wide).toBeGreaterThan(0);
      expect(wide).toBeLessThan(at(2)); // the same miss is less surprising under a wide spread
    });
  });

  it('a pooled variance τ² of weight ν pulls the draws\' variance to (K·s² + ν·τ²)/(K + ν); ν = 0 leaves it as drawn', () => {
    tf.tidy(() => {
      const draws = tf.tensor4d([0, 5, 2, 5, 0, 5, 2, 5], [4, 1, 1, 2]); // K = 4; channel 0: mean 1, s² 1; channel 1: mean 5, s² 0
      const mask = tf.ones([1, 1, 2]) as tf.Tensor3D;
      const x = tf.tensor3d([2, 6], [1, 1, 2]);
      const floor = 0.5;
      const nll = (prior?: { pooled: number[]; weight: number }) => Array.from(predictiveNll(draws, x, mask, floor, prior).nll.dataSync());
      const gaussian = (miss: number, sigma2: number) => 0.5 * (miss * miss) / sigma2 + 0.5 * Math.log(sigma2 / floor ** 2);
      const pooled = [0.25, 0.5];
      const shrunk = (s2: number, tau2: number) => (4 * s2 + 4 * tau2) / 8 + floor ** 2;
      const withPrior = nll({ pooled, weight: 4 });
      expect(withPrior[0]).toBeCloseTo(gaussian(1, shrunk(1, 0.25)), 5);
      expect(withPrior[1]).toBeCloseTo(gaussian(1, shrunk(0, 0.5)), 5);
      // A draw that happened to agree (s² = 0) no longer turns an ordinary miss into a large NLL.
      expect(withPrior[1]).toBeLessThan(nll()[1]);
      expect(nll({ pooled, weight: 0 })).toEqual(nll());
      expect(() => predictiveNll(draws, x, mask, floor, { pooled: [1], weight: 4 })).toThrow(/2 channels|1 channels/);
    });
  });

  it('leaks no tensors across loss, sampling and nll', () => {
    const net = new Denoiser({ channels: 1, condChannels: 2, width: 4, depth: 1 });
    const x0 = tf.randomNormal([2, 6, 1]) as tf.Tensor3D;
    const mask = tf.tensor3d(newestPointMask(2, 6, [true]), [2, 6, 1]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      imputationLoss(diffusion, net, x0, mask, { rng: seededRng(i) }).dispose();
      const s = impute(diffusion, net, x0, mask, { steps: 2, draws: 3, seed: i });
      const p = predictiveNll(s, x0, mask, 0.1);
      const q = predictiveNll(s, x0, mask, 0.1, { pooled: [0.3], weight: 4 });
      tf.dispose([s, p.nll, p.mean, q.nll, q.mean]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x0, mask]);
    net.dispose();
  });
});

describe('imputation scoring', () => {
  beforeAll(() => useBackend('wasm'));

  it('scores the newest point from the points that can reach it, and only from those', async () => {
    const { train } = await import('../../../src/model/trainer.ts');
    const { scoreWindows } = await import('../../../src/model/windowScorer.ts');
    const { leftReach } = await import('../../../src/model/denoiser.ts');
    const N = 400;
    const x = Float64Array.from({ length: N }, (_, i) => Math.sin(i / 5) + 0.1 * Math.cos(i * 1.7));
    const stamps = Float64Array.from({ length: N }, (_, i) => i * 60_000);
    const model = await train({ values: x, channels: ['v'], timestamps: stamps }, { windowLength: 40, width: 8, depth: 2, epochs: 1, scoring: 'imputation', seed: 1 });
    const reach = leftReach(model.denoiser.args); // 7 for kernel 3, dilations 1, 2
    expect(reach).toBe(7);
    const w = Float32Array.from(x.subarray(100, 140));
    const score = (v: Float32Array) => scoreWindows(model, v, 1, { timestamps: stamps.subarray(100, 140) }).windowScores[0];
    const far = Float32Array.from(w);
    far[40 - reach - 2] += 50; // outside the reach of the newest point
    const near = Float32Array.from(w);
    near[40 - reach] += 50; // inside it
    expect(score(far)).toBe(score(w));
    expect(score(near)).not.toBe(score(w));
    model.dispose();
  });
});
