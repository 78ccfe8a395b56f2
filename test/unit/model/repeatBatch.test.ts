import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { broadcastAxis1, repeatBatch } from '../../../src/model/repeatBatch.ts';
import { useBackend } from './helpers.ts';

describe.each(['cpu', 'wasm'] as const)('repeatBatch and broadcastAxis1 on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  afterAll(() => useBackend('cpu'));

  it('repeatBatch equals tf.tile along the batch, to the bit, and leaks nothing', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.randomNormal([3, 5, 2], 0, 1, 'float32', 1);
      for (const n of [1, 2, 4]) {
        const ours = repeatBatch(x, n);
        expect(ours.shape).toEqual([3 * n, 5, 2]);
        expect(Array.from(ours.dataSync())).toEqual(Array.from(tf.tile(x, [n, 1, 1]).dataSync()));
      }
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('broadcastAxis1 equals tf.tile along axis 1, to the bit, negative zeros and all', () => {
    tf.tidy(() => {
      const x = tf.concat([tf.randomNormal([2, 1, 3, 2], 0, 1, 'float32', 2), tf.fill([1, 1, 3, 2], -0)], 0); // [3, 1, 3, 2]
      for (const n of [1, 3, 7]) {
        const ours = broadcastAxis1(x, n);
        expect(ours.shape).toEqual([3, n, 3, 2]);
        const want = tf.tile(x, [1, n, 1, 1]).dataSync();
        expect(Array.from(ours.dataSync()).map((v) => Object.is(v, -0) ? '-0' : v)).toEqual(Array.from(want).map((v) => Object.is(v, -0) ? '-0' : v));
      }
    });
  });
});
