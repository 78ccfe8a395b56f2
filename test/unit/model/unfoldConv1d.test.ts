import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { convPadding, unfoldConv1d } from '../../../src/model/unfoldConv1d.ts';
import { ModelError } from '../../../src/errors.ts';
import { maxAbsDiff, useBackend } from './helpers.ts';

describe('unfoldConv1d', () => {
  beforeAll(() => useBackend('cpu'));

  const cases: [k: number, dilation: number, cin: number, cout: number, len: number][] = [
    [1, 1, 3, 4, 7],
    [3, 1, 1, 5, 16],
    [3, 2, 4, 3, 16],
    [3, 4, 2, 6, 20],
    [5, 1, 3, 2, 12],
    [5, 2, 2, 4, 19],
    [5, 4, 3, 3, 24],
    [2, 1, 3, 2, 9], // even K: TF puts the extra zero after the input
    [4, 2, 2, 3, 15],
  ];

  it.each(cases)('equals tf.conv1d(same) for K=%i dilation=%i Cin=%i Cout=%i L=%i', (k, dilation, cin, cout, len) => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, len, cin], 0, 1, 'float32', k * 100 + dilation) as tf.Tensor3D;
      const w = tf.randomNormal([k, cin, cout], 0, 1, 'float32', 7 + k) as tf.Tensor3D;
      const b = tf.randomNormal([cout], 0, 1, 'float32', 3) as tf.Tensor1D;
      const ours = unfoldConv1d(x, w, b, { dilation, padding: 'same' });
      const ref = tf.add(tf.conv1d(x, w, 1, 'same', 'NWC', dilation), b);
      expect(ours.shape).toEqual([2, len, cout]);
      expect(maxAbsDiff(ours, ref)).toBeLessThan(1e-5);
    });
  });

  it('causal padding: output i depends on inputs ≤ i only, and equals conv1d(valid) of the left-padded input', () => {
    tf.tidy(() => {
      const [k, dilation] = [3, 2];
      const x = tf.randomNormal([1, 12, 2], 0, 1, 'float32', 1) as tf.Tensor3D;
      const w = tf.randomNormal([k, 2, 3], 0, 1, 'float32', 2) as tf.Tensor3D;
      const y = unfoldConv1d(x, w, undefined, { dilation, padding: 'causal' });
      const ref = tf.conv1d(tf.pad(x, [[0, 0], [4, 0], [0, 0]]) as tf.Tensor3D, w, 1, 'valid', 'NWC', dilation);
      expect(maxAbsDiff(y, ref)).toBeLessThan(1e-5);
      // Changing the last input point changes only the last output point.
      const x2 = tf.concat([tf.slice(x, [0, 0, 0], [1, 11, 2]), tf.fill([1, 1, 2], 100)], 1) as tf.Tensor3D;
      const y2 = unfoldConv1d(x2, w, undefined, { dilation, padding: 'causal' });
      expect(maxAbsDiff(tf.slice(y, [0, 0, 0], [1, 11, 3]), tf.slice(y2, [0, 0, 0], [1, 11, 3]))).toBe(0);
      expect(maxAbsDiff(tf.slice(y, [0, 11, 0], [1, 1, 3]), tf.slice(y2, [0, 11, 0], [1, 1, 3]))).toBeGreaterThan(1);
    });
  });

  it('splits the padding as TF does', () => {
    expect(convPadding(3, 1, 'same')).toEqual([1, 1]);
    expect(convPadding(4, 1, 'same')).toEqual([1, 2]);
    expect(convPadding(5, 4, 'same')).toEqual([8, 8]);
    expect(convPadding(3, 4, 'causal')).toEqual([8, 0]);
  });

  it('has gradients for input, kernel and bias that match tf.conv1d (dilation 1, where core has them)', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, 10, 3], 0, 1, 'float32', 5) as tf.Tensor3D;
      const w = tf.randomNormal([3, 3, 4], 0, 1, 'float32', 6) as tf.Tensor3D;
      const b = tf.zeros([4]) as tf.Tensor1D;
      const f = (conv: (x: tf.Tensor3D, w: tf.Tensor3D, b: tf.Tensor1D) => tf.Tensor) => tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(conv(xx as tf.Tensor3D, ww as tf.Tensor3D, bb as tf.Tensor1D))));
      const ours = f((xx, ww, bb) => unfoldConv1d(xx, ww, bb))([x, w, b]);
      const ref = f((xx, ww, bb) => tf.add(tf.conv1d(xx, ww, 1, 'same'), bb))([x, w, b]);
      ours.forEach((g, i) => expect(maxAbsDiff(g, ref[i])).toBeLessThan(1e-4));
    });
  });

  it('rejects a kernel that does not fit the input', () => {
    const x = tf.zeros([1, 8, 2]) as tf.Tensor3D;
    const w = tf.zeros([3, 3, 4]) as tf.Tensor3D;
    expect(() => unfoldConv1d(x, w)).toThrow(ModelError);
    tf.dispose([x, w]);
  });
});
