import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Denoiser } from '../../../src/model/denoiser.ts';
import { WeightAverage } from '../../../src/model/weightAverage.ts';
import { useBackend } from './helpers.ts';

const first = (net: Denoiser, name = 'inProj/kernel') => net.getWeights()[name].dataSync()[0];
const setAll = (net: Denoiser, v: number) => {
  const values = Object.fromEntries(Object.entries(net.getWeights()).map(([k, w]) => [k, tf.fill(w.shape, v)]));
  net.setWeights(values);
  tf.dispose(values);
};

describe('WeightAverage', () => {
  beforeAll(() => useBackend('wasm'));

  it('averages with the warmed-up decay min(decay, (1 + n) / (10 + n)) and leaves the net its own weights', () => {
    const net = new Denoiser({ channels: 2, width: 4, depth: 1, kernelSize: 3, embedDim: 4, seed: 1 });
    const before = tf.memory().numTensors;
    setAll(net, 0);
    const avg = new WeightAverage(net, 0.5);
    // Step 1: d = min(0.5, 2/11) = 2/11; the average moves 9/11 of the way to 1.
    setAll(net, 1);
    avg.update();
    let expected = 9 / 11;
    expect(avg.apply(() => first(net))).toBeCloseTo(expected, 6);
    expect(first(net)).toBe(1);
    // Steps 2 and 3: d = min(0.5, 3/12) = 0.25, then min(0.5, 4/13).
    setAll(net, 3);
    avg.update();
    expected = 0.25 * expected + 0.75 * 3;
    setAll(net, -2);
    avg.update();
    expected = (4 / 13) * expected + (9 / 13) * -2;
    const kept = avg.snapshot();
    expect(kept['inProj/kernel'].dataSync()[0]).toBeCloseTo(expected, 5);
    expect(first(net)).toBe(-2);
    // Late in training the decay is the configured one.
    for (let i = 0; i < 100; i++) avg.update();
    setAll(net, 6);
    const a0 = avg.apply(() => first(net));
    avg.update();
    expect(avg.apply(() => first(net))).toBeCloseTo(0.5 * a0 + 0.5 * 6, 5);
    // The snapshot is a copy: later updates do not move it.
    expect(kept['inProj/kernel'].dataSync()[0]).toBeCloseTo(expected, 5);
    tf.dispose(kept);
    avg.dispose();
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it('puts the trained weights back when the evaluation throws', () => {
    const net = new Denoiser({ channels: 1, width: 4, depth: 1, kernelSize: 3, embedDim: 4, seed: 2 });
    setAll(net, 0);
    const avg = new WeightAverage(net, 0.9);
    setAll(net, 5);
    expect(() => avg.apply(() => {
      throw new Error('evaluation failed');
    })).toThrow('evaluation failed');
    expect(first(net)).toBe(5);
    avg.dispose();
    net.dispose();
  });
});
