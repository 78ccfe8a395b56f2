import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GaussianDiffusion, ddimTimesteps, seededRng, type EpsModel } from '../../../src/model/diffusion.ts';
import { Denoiser } from '../../../src/model/denoiser.ts';
import { makeNoiseSchedule } from '../../../src/model/noiseSchedule.ts';
import { ModelError } from '../../../src/errors.ts';
import { maxAbsDiff, useBackend } from './helpers.ts';

const schedule = makeNoiseSchedule({ kind: 'cosine', T: 100 });
const diffusion = new GaussianDiffusion(schedule);
const abar = schedule.alphasCumprod;

/** A perfect ε model for one known x_0: ε = (x_t - √ᾱ_t x_0) / √(1-ᾱ_t). */
function oracle(x0: tf.Tensor3D): EpsModel {
  return {
    apply: (xt, t) =>
      tf.tidy(() => {
        const ts = Array.from(t.dataSync());
        const reps = xt.shape[0] / x0.shape[0];
        const sa = tf.tensor3d(ts.map((s) => Math.sqrt(abar[s])), [ts.length, 1, 1]);
        const s1 = tf.tensor3d(ts.map((s) => Math.sqrt(1 - abar[s])), [ts.length, 1, 1]);
        return tf.div(tf.sub(xt, tf.mul(sa, tf.tile(x0, [reps, 1, 1]))), s1) as tf.Tensor3D;
      }),
  };
}

const zeroModel: EpsModel = { apply: (xt) => tf.zerosLike(xt) };

describe('GaussianDiffusion', () => {
  beforeAll(() => useBackend('wasm'));

  it('qSample draws x_t with mean √ᾱ_t x_0 and variance 1 - ᾱ_t', () => {
    const n = 20_000;
    const t = 30;
    const x0 = tf.tensor3d([-2, 0.5, 3], [1, 3, 1]);
    const xt = diffusion.qSample(tf.tile(x0, [n, 1, 1]) as tf.Tensor3D, t, undefined, 11);
    const { mean, variance } = tf.moments(xt, 0);
    const [m, v] = [mean.dataSync(), variance.dataSync()];
    [-2, 0.5, 3].forEach((x, i) => {
      expect(Math.abs(m[i] - Math.sqrt(abar[t]) * x)).toBeLessThan(4 * Math.sqrt((1 - abar[t]) / n));
      expect(v[i] / (1 - abar[t])).toBeCloseTo(1, 1);
    });
    tf.dispose([x0, xt, mean, variance]);
  });

  it('qSample with per-window timesteps is the closed form, and predictStartFromNoise inverts it', () => {
    tf.tidy(() => {
      const x0 = tf.randomNormal([3, 8, 2], 0, 1, 'float32', 1) as tf.Tensor3D;
      const noise = tf.randomNormal([3, 8, 2], 0, 1, 'float32', 2) as tf.Tensor3D;
      const ts = [0, 42, 99];
      const xt = diffusion.qSample(x0, tf.tensor1d(ts, 'int32'), noise);
      ts.forEach((t, b) => {
        const row = (x: tf.Tensor) => tf.slice(x, [b, 0, 0], [1, 8, 2]);
        const want = tf.add(tf.mul(Math.sqrt(abar[t]), row(x0)), tf.mul(Math.sqrt(1 - abar[t]), row(noise)));
        expect(maxAbsDiff(row(xt), want)).toBeLessThan(1e-5);
      });
      // Float32 division by √ᾱ_99 ≈ 0.0000 amplifies rounding; compare the well-conditioned rows tightly.
      const back = diffusion.predictStartFromNoise(xt, tf.tensor1d(ts, 'int32'), noise);
      expect(maxAbsDiff(tf.slice(back, [0, 0, 0], [2, 8, 2]), tf.slice(x0, [0, 0, 0], [2, 8, 2]))).toBeLessThan(1e-4);
    });
  });

  it('ddimStep with the true ε lands exactly on q(x_tPrev | x_0) (η = 0) and on x_0 at tPrev = -1', () => {
    tf.tidy(() => {
      const x0 = tf.randomNormal([2, 6, 1], 0, 1, 'float32', 3) as tf.Tensor3D;
      const noise = tf.randomNormal([2, 6, 1], 0, 1, 'float32', 4) as tf.Tensor3D;
      const xt = diffusion.qSample(x0, 50, noise);
      expect(maxAbsDiff(diffusion.ddimStep(xt, noise, 50, 20), diffusion.qSample(x0, 20, noise))).toBeLessThan(1e-5);
      expect(maxAbsDiff(diffusion.ddimStep(xt, noise, 50, -1), x0)).toBeLessThan(1e-5);
    });
  });

  it('ddimStep with η > 0 adds σ z with Song et al.’s σ, and checks its arguments', () => {
    tf.tidy(() => {
      const xt = tf.randomNormal([1, 5, 2], 0, 1, 'float32', 5) as tf.Tensor3D;
      const eps = tf.randomNormal([1, 5, 2], 0, 1, 'float32', 6) as tf.Tensor3D;
      const z = tf.randomNormal([1, 5, 2], 0, 1, 'float32', 7) as tf.Tensor3D;
      const [t, tp, eta] = [60, 30, 0.5];
      const sigma = eta * Math.sqrt((1 - abar[tp]) / (1 - abar[t])) * Math.sqrt(1 - abar[t] / abar[tp]);
      const x0 = tf.div(tf.sub(xt, tf.mul(Math.sqrt(1 - abar[t]), eps)), Math.sqrt(abar[t]));
      const want = tf.addN([tf.mul(Math.sqrt(abar[tp]), x0), tf.mul(Math.sqrt(1 - abar[tp] - sigma ** 2), eps), tf.mul(sigma, z)]);
      expect(maxAbsDiff(diffusion.ddimStep(xt, eps, t, tp, { eta, noise: z }), want)).toBeLessThan(1e-5);
      expect(() => diffusion.ddimStep(xt, eps, t, tp, { eta })).toThrow(/fresh noise/);
      expect(() => diffusion.ddimStep(xt, eps, 30, 30)).toThrow(ModelError);
      expect(() => diffusion.ddimStep(xt, eps, 100, 3)).toThrow(/\[0, 99\]/);
    });
  });

  it('ddimTimesteps spaces S distinct steps from t0 down', () => {
    expect(ddimTimesteps(29, 3)).toEqual([29, 19, 9]);
    expect(ddimTimesteps(30, 1)).toEqual([30]);
    expect(ddimTimesteps(5, 6)).toEqual([5, 4, 3, 2, 1, 0]);
    for (let t0 = 0; t0 < 40; t0++) {
      for (let s = 1; s <= t0 + 1; s++) {
        const ts = ddimTimesteps(t0, s);
        expect(ts[0]).toBe(t0);
        expect(ts.every((v, i) => v >= 0 && (i === 0 || v < ts[i - 1]))).toBe(true);
      }
    }
    expect(() => ddimTimesteps(3, 5)).toThrow(/steps/);
  });

  it('reconstruct recovers x_0 exactly with a perfect ε model, one-shot and multi-step', () => {
    const x0 = tf.randomNormal([3, 16, 2], 0, 1, 'float32', 8) as tf.Tensor3D;
    for (const steps of [1, 4]) {
      const { reconstruction, sqError } = diffusion.reconstruct(oracle(x0), x0, { t0: 40, steps, draws: 3, seed: 1 });
      expect(reconstruction.shape).toEqual([3, 16, 2]);
      expect(maxAbsDiff(reconstruction, x0)).toBeLessThan(1e-4);
      expect(tf.max(sqError).dataSync()[0]).toBeLessThan(1e-8);
      tf.dispose([reconstruction, sqError]);
    }
    x0.dispose();
  });

  it('reconstruct averages the K one-shot estimates x_t / √ᾱ_t of a model that predicts ε̂ = 0', () => {
    tf.tidy(() => {
      const t0 = 20;
      const x0 = tf.randomNormal([2, 4, 1], 0, 1, 'float32', 9) as tf.Tensor3D;
      const noise = tf.randomNormal([3, 2, 4, 1], 0, 1, 'float32', 10) as tf.Tensor4D;
      const { reconstruction, sqError } = diffusion.reconstruct(zeroModel, x0, { t0, steps: 1, draws: 3, noise });
      const want = tf.add(x0, tf.mul(Math.sqrt((1 - abar[t0]) / abar[t0]), tf.mean(noise, 0)));
      expect(maxAbsDiff(reconstruction, want)).toBeLessThan(1e-5);
      expect(maxAbsDiff(sqError, tf.squaredDifference(want, x0))).toBeLessThan(1e-5);
      expect(() => diffusion.reconstruct(zeroModel, x0, { t0, steps: 1, draws: 2, noise })).toThrow(/noise must be/);
    });
  });

  it('reconstruct is deterministic per seed', () => {
    tf.tidy(() => {
      const x0 = tf.randomNormal([2, 4, 1], 0, 1, 'float32', 9) as tf.Tensor3D;
      const r = (seed: number) => diffusion.reconstruct(zeroModel, x0, { t0: 20, steps: 1, draws: 2, seed }).reconstruction;
      expect(maxAbsDiff(r(5), r(5))).toBe(0);
      expect(maxAbsDiff(r(5), r(6))).toBeGreaterThan(0);
    });
  });

  it('trainingLoss is the ε-MSE at uniform timesteps drawn from the rng', () => {
    const seen: number[][] = [];
    const spy: EpsModel = {
      apply: (xt, t) => {
        seen.push(Array.from(t.dataSync()));
        return tf.zerosLike(xt);
      },
    };
    tf.tidy(() => {
      const x0 = tf.randomNormal([64, 4, 1], 0, 1, 'float32', 1) as tf.Tensor3D;
      const noise = tf.fill([64, 4, 1], 2) as tf.Tensor3D;
      // ε̂ = 0 against ε = 2 everywhere: the loss is exactly 4.
      expect(diffusion.trainingLoss(spy, x0, { t: tf.fill([64], 7, 'int32') as tf.Tensor1D, noise }).dataSync()[0]).toBeCloseTo(4, 6);
      const rng = seededRng(1);
      diffusion.trainingLoss(spy, x0, { rng });
      diffusion.trainingLoss(spy, x0, { rng });
      expect(() => diffusion.trainingLoss(spy, x0, { noise })).toThrow(/rng/);
    });
    const [fixed, a, b] = seen;
    expect(new Set(fixed)).toEqual(new Set([7]));
    for (const ts of [a, b]) expect(ts.every((t) => Number.isInteger(t) && t >= 0 && t < 100)).toBe(true);
    expect(new Set(a).size).toBeGreaterThan(20); // 64 uniform draws over 100 values
    expect(a).not.toEqual(b); // the rng advances between steps
  });

  it('leaks no tensors over 100 reconstructions and 20 training steps of a real denoiser', () => {
    const net = new Denoiser({ channels: 2, width: 8, depth: 2, embedDim: 8 });
    const x0 = tf.randomNormal([4, 16, 2], 0, 1, 'float32', 1) as tf.Tensor3D;
    const opt = tf.train.adam(1e-3);
    const rng = seededRng(2);
    const train = () => tf.dispose(opt.minimize(() => diffusion.trainingLoss(net, x0, { rng }), true, net.trainableVariables())!);
    train(); // Adam creates its slot variables on the first step
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      const { reconstruction, sqError } = diffusion.reconstruct(net, x0, { t0: 30, steps: i % 3 === 0 ? 3 : 1, draws: 2, seed: i });
      tf.dispose([reconstruction, sqError]);
    }
    for (let i = 0; i < 20; i++) train();
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    x0.dispose();
    net.dispose();
  });
});
