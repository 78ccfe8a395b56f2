import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradConv1d } from '../../../src/model/gradConv1d.ts';
import { unfoldConv1d, type ConvPadding } from '../../../src/model/unfoldConv1d.ts';
import { maxAbsDiff, useBackend } from './helpers.ts';

type Conv = typeof gradConv1d;

/** ∂/∂(x, w, b) of Σ r ⊙ conv(x, w, b): r weights every output differently, so a misplaced gradient shows. */
function gradsOf(conv: Conv, x: tf.Tensor3D, w: tf.Tensor3D, b: tf.Tensor1D, r: tf.Tensor, dilation: number, padding: ConvPadding): tf.Tensor[] {
  return tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(conv(xx as tf.Tensor3D, ww as tf.Tensor3D, bb as tf.Tensor1D, { dilation, padding }), r)))([x, w, b]);
}

const cases: [k: number, dilation: number, padding: ConvPadding][] = [
  [3, 1, 'same'],
  [3, 4, 'same'],
  [3, 8, 'same'],
  [3, 2, 'causal'],
  [1, 1, 'same'],
  [2, 2, 'same'],
  [2, 1, 'same'], // odd total padding: the extra zero goes after the input
  [4, 3, 'same'], // odd total padding with a dilation
  [5, 3, 'causal'],
];

describe.each(['cpu', 'wasm'] as const)('gradConv1d on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  afterAll(() => useBackend('cpu'));

  it.each(cases)('K=%i dilation=%i %s: output and all three gradients equal the unfold form', (k, dilation, padding) => {
    tf.tidy(() => {
      const x = tf.randomNormal([3, 24, 4], 0, 1, 'float32', 10 + k) as tf.Tensor3D;
      const w = tf.randomNormal([k, 4, 5], 0, 1, 'float32', 20 + dilation) as tf.Tensor3D;
      const b = tf.randomNormal([5], 0, 1, 'float32', 30) as tf.Tensor1D;
      const r = tf.randomNormal([3, 24, 5], 0, 1, 'float32', 40);
      const ours = gradConv1d(x, w, b, { dilation, padding });
      expect(ours.shape).toEqual([3, 24, 5]);
      expect(maxAbsDiff(ours, unfoldConv1d(x, w, b, { dilation, padding }))).toBeLessThan(1e-5);
      const [gx, gw, gb] = gradsOf(gradConv1d, x, w, b, r, dilation, padding);
      const [rx, rw, rb] = gradsOf(unfoldConv1d, x, w, b, r, dilation, padding);
      expect(gx.shape).toEqual(x.shape);
      expect(gw.shape).toEqual(w.shape);
      expect(maxAbsDiff(gx, rx)).toBeLessThan(1e-4);
      expect(maxAbsDiff(gw, rw)).toBeLessThan(1e-4);
      expect(maxAbsDiff(gb, rb)).toBeLessThan(1e-4);
    });
  });

  it('causal: the gradient of the newest output reaches no later input', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([1, 16, 2], 0, 1, 'float32', 1) as tf.Tensor3D;
      const w = tf.randomNormal([3, 2, 3], 0, 1, 'float32', 2) as tf.Tensor3D;
      const b = tf.zeros([3]) as tf.Tensor1D;
      // Only output 9 is weighted: inputs 10..15 must get exactly zero gradient.
      const r = tf.tensor3d(Float32Array.from({ length: 16 * 3 }, (_, i) => (Math.floor(i / 3) === 9 ? 1 : 0)), [1, 16, 3]);
      const [gx] = gradsOf(gradConv1d, x, w, b, r, 2, 'causal');
      expect(maxAbsDiff(tf.slice(gx, [0, 10, 0], [1, 6, 2]), tf.zeros([1, 6, 2]))).toBe(0);
      expect(tf.max(tf.abs(tf.slice(gx, [0, 5, 0], [1, 5, 2]))).dataSync()[0]).toBeGreaterThan(0);
    });
  });

  it('trains: Adam steps lower the loss, and repeated steps leak no tensors', () => {
    const x = tf.randomNormal([8, 20, 2], 0, 1, 'float32', 3) as tf.Tensor3D;
    const target = tf.tidy(() => unfoldConv1d(x, tf.randomNormal([3, 2, 2], 0, 1, 'float32', 4) as tf.Tensor3D, undefined, { dilation: 2 }));
    const w = tf.variable(tf.zeros([3, 2, 2]));
    const b = tf.variable(tf.zeros([2]));
    const opt = tf.train.adam(0.05);
    const loss = () => tf.mean(tf.squaredDifference(gradConv1d(x, w as tf.Tensor3D, b as tf.Tensor1D, { dilation: 2 }), target)) as tf.Scalar;
    const step = () => tf.tidy(() => opt.minimize(loss, true, [w, b])!.dataSync()[0]);
    const first = step();
    step();
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 60; i++) last = step();
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBeLessThan(first * 0.2);
    tf.dispose([x, target, w, b]);
    opt.dispose();
  });
});
