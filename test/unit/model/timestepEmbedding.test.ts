import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { timestepEmbedding } from '../../../src/model/timestepEmbedding.ts';
import { useBackend } from './helpers.ts';

describe('timestepEmbedding', () => {
  beforeAll(() => useBackend('cpu'));

  it('is [cos(t·f_i), sin(t·f_i)] with f_i = 10000^(-i/half), as improved-diffusion', () => {
    const ts = [0, 1, 7, 99];
    const dim = 8;
    const emb = timestepEmbedding(tf.tensor1d(ts, 'int32'), dim);
    expect(emb.shape).toEqual([4, 8]);
    const got = emb.arraySync();
    ts.forEach((t, r) => {
      for (let i = 0; i < 4; i++) {
        const arg = t * Math.exp((-Math.log(10_000) * i) / 4);
        expect(got[r][i]).toBeCloseTo(Math.cos(arg), 4);
        expect(got[r][4 + i]).toBeCloseTo(Math.sin(arg), 4);
      }
    });
    emb.dispose();
  });

  it('pads an odd size with a zero column and tells timesteps apart', () => {
    const emb = timestepEmbedding(tf.tensor1d([3, 4], 'int32'), 5);
    expect(emb.shape).toEqual([2, 5]);
    const [a, b] = emb.arraySync();
    expect(a[4]).toBe(0);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(0.1);
    emb.dispose();
  });
});
