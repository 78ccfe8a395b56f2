/**
 * A denoiser split into channel groups (channelGroups.ts): each group a net of its own, reading
 * its own channels' x_t, observed values and mask and the shared extra inputs.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Denoiser } from '../../../src/model/denoiser.ts';
import { ModelError } from '../../../src/errors.ts';
import { maxAbsDiff, useBackend } from './helpers.ts';

// 4 channels: groups {0, 1} and {2, 3}, plus channel 3 (a command) read by both. Cond = [obs 4, mask 4, calendar 2].
const ARGS = { channels: 4, condChannels: 10, width: 8, depth: 2, embedDim: 6, seed: 2, groups: [[0, 1, 3], [2, 3]] };
const B = 3;
const L = 12;
const t = () => tf.tensor1d([5, 50, 90], 'int32');

/** Changes the inputs of channel c only: its x_t, observed value and mask entries. */
function perturbChannel(x: tf.Tensor3D, cond: tf.Tensor3D, c: number): [tf.Tensor3D, tf.Tensor3D] {
  const bump = (n: number, cols: number[]) => tf.tensor3d(Array.from({ length: B * L * n }, (_, k) => (cols.includes(k % n) ? 3 : 0)), [B, L, n]);
  return [tf.add(x, bump(4, [c])) as tf.Tensor3D, tf.add(cond, bump(10, [c, 4 + c])) as tf.Tensor3D];
}

describe('Denoiser with channel groups', () => {
  beforeAll(() => useBackend('wasm'));

  it('keeps the groups apart: a channel\'s inputs move its own group\'s outputs and no other group\'s', () => {
    const net = new Denoiser(ARGS);
    tf.tidy(() => {
      const x = tf.randomNormal([B, L, 4], 0, 1, 'float32', 1) as tf.Tensor3D;
      const cond = tf.randomNormal([B, L, 10], 0, 1, 'float32', 2) as tf.Tensor3D;
      const y = net.apply(x, t(), cond);
      expect(y.shape).toEqual([B, L, 4]);
      const moved = (c: number) => {
        const [x2, cond2] = perturbChannel(x, cond, c);
        const y2 = net.apply(x2, t(), cond2);
        return [0, 1, 2].map((o) => maxAbsDiff(tf.slice(y, [0, 0, o], [B, L, 1]), tf.slice(y2, [0, 0, o], [B, L, 1])));
      };
      const [a0, a1, a2] = moved(0);
      expect(a0).toBeGreaterThan(0);
      expect(a1).toBeGreaterThan(0);
      expect(a2).toBe(0);
      const [b0, b1, b2] = moved(2);
      expect([b0, b1]).toEqual([0, 0]);
      expect(b2).toBeGreaterThan(0);
      // The command read by both groups reaches both.
      const [c0, , c2] = moved(3);
      expect(c0).toBeGreaterThan(0);
      expect(c2).toBeGreaterThan(0);
      // The shared extra inputs (the calendar) reach every group.
      const cal = tf.add(cond, tf.tensor3d(Array.from({ length: B * L * 10 }, (_, k) => (k % 10 >= 8 ? 1 : 0)), [B, L, 10])) as tf.Tensor3D;
      const y3 = net.apply(x, t(), cal);
      for (const o of [0, 2]) expect(maxAbsDiff(tf.slice(y, [0, 0, o], [B, L, 1]), tf.slice(y3, [0, 0, o], [B, L, 1]))).toBeGreaterThan(0);
    });
    net.dispose();
  });

  it('has one weight set per group, round-trips through its config, and leaks nothing', () => {
    const a = new Denoiser(ARGS);
    const names = Object.keys(a.getWeights());
    expect(names.every((n) => n.startsWith('g0/') || n.startsWith('g1/'))).toBe(true);
    // Group 0 reads 3 channels' x_t, observed values and masks plus 2 calendar inputs; group 1 2 channels'.
    expect(a.getWeights()['g0/inProj/kernel'].shape).toEqual([3, 3 * 3 + 2, 8]);
    expect(a.getWeights()['g1/outProj/kernel'].shape).toEqual([1, 8, 2]);
    const b = new Denoiser(JSON.parse(JSON.stringify(a.getConfig())));
    b.setWeights(a.getWeights());
    const x = tf.randomNormal([B, L, 4], 0, 1, 'float32', 3) as tf.Tensor3D;
    const cond = tf.randomNormal([B, L, 10], 0, 1, 'float32', 4) as tf.Tensor3D;
    const tt = t();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.dispose([a.apply(x, tt, cond), b.apply(x, tt, cond)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.tidy(() => {
      expect(maxAbsDiff(a.apply(x, tt, cond), b.apply(x, tt, cond))).toBe(0);
    });
    tf.dispose([x, cond, tt]);
    a.dispose();
    b.dispose();
  });

  it('trains: gradients reach every group\'s weights', () => {
    const net = new Denoiser(ARGS);
    const x = tf.randomNormal([B, L, 4], 0, 1, 'float32', 5) as tf.Tensor3D;
    const cond = tf.randomNormal([B, L, 10], 0, 1, 'float32', 6) as tf.Tensor3D;
    const tt = t();
    const { grads, value } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(net.apply(x, tt, cond), x))) as tf.Scalar, net.trainableVariables());
    for (const prefix of ['g0/', 'g1/']) {
      const kernel = net.getWeights()[`${prefix}inProj/kernel`] as tf.Variable;
      expect(tf.tidy(() => tf.max(tf.abs(grads[kernel.name])).dataSync()[0])).toBeGreaterThan(0);
    }
    tf.dispose([x, cond, tt, value, ...Object.values(grads)]);
    net.dispose();
  });

  it('a group without the extra inputs (groupExtras false) does not read the calendar; the others still do', () => {
    const net = new Denoiser({ ...ARGS, groupExtras: [true, false] });
    expect(net.getWeights()['g1/inProj/kernel'].shape).toEqual([3, 3 * 2, 8]);
    tf.tidy(() => {
      const x = tf.randomNormal([B, L, 4], 0, 1, 'float32', 7) as tf.Tensor3D;
      const cond = tf.randomNormal([B, L, 10], 0, 1, 'float32', 8) as tf.Tensor3D;
      const cal = tf.add(cond, tf.tensor3d(Array.from({ length: B * L * 10 }, (_, k) => (k % 10 >= 8 ? 1 : 0)), [B, L, 10])) as tf.Tensor3D;
      const [y, y2] = [net.apply(x, t(), cond), net.apply(x, t(), cal)];
      expect(maxAbsDiff(tf.slice(y, [0, 0, 0], [B, L, 1]), tf.slice(y2, [0, 0, 0], [B, L, 1]))).toBeGreaterThan(0);
      expect(maxAbsDiff(tf.slice(y, [0, 0, 2], [B, L, 1]), tf.slice(y2, [0, 0, 2], [B, L, 1]))).toBe(0);
    });
    expect(new Denoiser(JSON.parse(JSON.stringify(net.getConfig()))).getConfig().groupExtras).toEqual([true, false]);
    expect(() => new Denoiser({ ...ARGS, groupExtras: [true] })).toThrow(/groupExtras/);
    net.dispose();
  });

  it('rejects groups that leave a channel out, are not ascending, or lack the [observed, mask] input', () => {
    for (const groups of [[[0, 1], [2]], [[1, 0], [2, 3]], [[0, 1, 2, 3]], [[0, 1], [2, 4]]]) {
      expect(() => new Denoiser({ ...ARGS, groups }), JSON.stringify(groups)).toThrow(ModelError);
    }
    expect(() => new Denoiser({ ...ARGS, condChannels: 4 })).toThrow(/observed, mask/);
  });
});
