import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Denoiser, defaultDilations, resolveDenoiserArgs } from '../../../src/model/denoiser.ts';
import { ModelError } from '../../../src/errors.ts';
import { maxAbsDiff, useBackend } from './helpers.ts';

describe('Denoiser', () => {
  beforeAll(() => useBackend('wasm'));

  it('maps [B, L, C] and t [B] to ε̂ [B, L, C], with one weight set per block', () => {
    const net = new Denoiser({ channels: 3, width: 8, depth: 3, kernelSize: 3, embedDim: 6 });
    const names = Object.keys(net.getWeights());
    for (let i = 0; i < 3; i++) expect(names.filter((n) => n.startsWith(`block${i}/`))).toHaveLength(6);
    expect(net.getWeights()['block2/conv1/kernel'].shape).toEqual([3, 8, 8]);
    expect(net.getWeights()['block0/time/kernel'].shape).toEqual([6, 8]);
    expect(net.getWeights()['inProj/kernel'].shape).toEqual([3, 3, 8]);
    expect(net.getWeights()['outProj/kernel'].shape).toEqual([1, 8, 3]);
    for (const [batch, len] of [[1, 16], [5, 33]]) {
      tf.tidy(() => {
        const y = net.apply(tf.randomNormal([batch, len, 3]) as tf.Tensor3D, tf.fill([batch], 4, 'int32') as tf.Tensor1D);
        expect(y.shape).toEqual([batch, len, 3]);
        expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
      });
    }
    net.dispose();
  });

  it('depends on the timestep, and with causal padding output i ignores later inputs', () => {
    const net = new Denoiser({ channels: 1, width: 8, depth: 2, padding: 'causal', seed: 3 });
    tf.tidy(() => {
      const x = tf.randomNormal([1, 20, 1], 0, 1, 'float32', 1) as tf.Tensor3D;
      const a = net.apply(x, tf.tensor1d([1], 'int32'));
      expect(maxAbsDiff(a, net.apply(x, tf.tensor1d([80], 'int32')))).toBeGreaterThan(0);
      const x2 = tf.concat([tf.slice(x, [0, 0, 0], [1, 19, 1]), tf.fill([1, 1, 1], 50)], 1) as tf.Tensor3D;
      const b = net.apply(x2, tf.tensor1d([1], 'int32'));
      expect(maxAbsDiff(tf.slice(a, [0, 0, 0], [1, 19, 1]), tf.slice(b, [0, 0, 0], [1, 19, 1]))).toBe(0);
      expect(maxAbsDiff(tf.slice(a, [0, 19, 0], [1, 1, 1]), tf.slice(b, [0, 19, 0], [1, 1, 1]))).toBeGreaterThan(0);
    });
    net.dispose();
  });

  it('apply leaks nothing beyond the tensor it returns', () => {
    const net = new Denoiser({ channels: 2, width: 8, depth: 2 });
    const x = tf.randomNormal([3, 16, 2]) as tf.Tensor3D;
    const t = tf.tensor1d([1, 2, 3], 'int32');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) net.apply(x, t).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, t]);
    net.dispose();
  });

  it('round-trips its args through JSON and its weights through getWeights/setWeights', () => {
    const a = new Denoiser({ channels: 2, width: 8, depth: 2, seed: 1 });
    const b = new Denoiser(JSON.parse(JSON.stringify(a.getConfig())));
    expect(b.getConfig()).toEqual(a.getConfig());
    expect(a.getConfig().dilations).toEqual([1, 2]);
    const x = tf.randomNormal([2, 12, 2], 0, 1, 'float32', 9) as tf.Tensor3D;
    const t = tf.tensor1d([3, 40], 'int32');
    const [ya, yb0] = [a.apply(x, t), b.apply(x, t)];
    expect(maxAbsDiff(ya, yb0)).toBe(0); // same seed, same init
    const c = new Denoiser({ ...a.getConfig(), seed: 2 });
    const yc0 = c.apply(x, t);
    expect(maxAbsDiff(ya, yc0)).toBeGreaterThan(0);
    c.setWeights(a.getWeights());
    const yc = c.apply(x, t);
    expect(maxAbsDiff(ya, yc)).toBe(0);
    // Its own live variables are already in place: setting them again must not free them.
    c.setWeights(c.getWeights());
    const yc2 = c.apply(x, t);
    expect(maxAbsDiff(ya, yc2)).toBe(0);
    tf.dispose([x, t, ya, yb0, yc0, yc, yc2]);
    [a, b, c].forEach((n) => n.dispose());
  });

  it('setWeights rejects missing names and wrong shapes, naming the weight', () => {
    const a = new Denoiser({ channels: 1, width: 8, depth: 1 });
    const wide = new Denoiser({ channels: 1, width: 16, depth: 1 });
    const { ['outProj/bias']: _dropped, ...partial } = a.getWeights();
    expect(() => a.setWeights(partial)).toThrow(/missing \[outProj\/bias\]/);
    try {
      a.setWeights(wide.getWeights());
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ModelError);
      expect((err as ModelError).code).toBe('MODEL_MISMATCH');
      expect((err as ModelError).coords.field).toBe('inProj/kernel');
    }
    a.dispose();
    wide.dispose();
  });

  it('validates its args and defaults the dilations to 1, 2, 4, 8, repeating', () => {
    expect(defaultDilations(6)).toEqual([1, 2, 4, 8, 1, 2]);
    expect(resolveDenoiserArgs({ channels: 1 })).toMatchObject({ width: 32, depth: 4, kernelSize: 3, dilations: [1, 2, 4, 8] });
    expect(() => resolveDenoiserArgs({ channels: 0 })).toThrow(/channels/);
    expect(() => resolveDenoiserArgs({ channels: 1, depth: 2, dilations: [1] })).toThrow(/dilations/);
    const net = new Denoiser({ channels: 2, width: 4, depth: 1 });
    tf.tidy(() => {
      expect(() => net.apply(tf.zeros([1, 8, 3]) as tf.Tensor3D, tf.zeros([1], 'int32') as tf.Tensor1D)).toThrow(ModelError);
    });
    net.dispose();
  });

  it('trains on wasm: one Adam step changes every variable, without leaking tensors', () => {
    const net = new Denoiser({ channels: 2, width: 8, depth: 2, embedDim: 8, seed: 4 });
    const x = tf.randomNormal([4, 16, 2], 0, 1, 'float32', 1) as tf.Tensor3D;
    const t = tf.tensor1d([0, 10, 20, 30], 'int32');
    const target = tf.randomNormal([4, 16, 2], 0, 1, 'float32', 2);
    const before = Object.fromEntries(Object.entries(net.getWeights()).map(([n, v]) => [n, v.clone()]));
    const opt = tf.train.adam(1e-3);
    const step = () => tf.dispose(opt.minimize(() => tf.mean(tf.squaredDifference(net.apply(x, t), target)) as tf.Scalar, false, net.trainableVariables())!);
    step();
    for (const [name, w] of Object.entries(net.getWeights())) expect(maxAbsDiff(w, before[name]), name).toBeGreaterThan(0);
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    opt.dispose();
    tf.dispose([x, t, target, ...Object.values(before)]);
    net.dispose();
  });
});
