/**
 * A grouped denoiser run as one block-diagonal net (blockDiagonal.ts, `groupForm`): the same
 * outputs as the separate nets, weights that follow `setWeights`, and nothing leaked.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { blockDiagonal, sideBySide } from '../../../src/model/blockDiagonal.ts';
import { Denoiser } from '../../../src/model/denoiser.ts';
import { maxAbsDiff, useBackend } from './helpers.ts';

// Groups of unequal size, a command (channel 3) read by two groups, and a group without the calendar.
const ARGS = { channels: 4, condChannels: 10, width: 8, depth: 3, embedDim: 6, seed: 4, groups: [[0, 1, 3], [2, 3], [1]], groupExtras: [true, false, true] };
const B = 5;
const L = 16;

function inputs(): [tf.Tensor3D, tf.Tensor1D, tf.Tensor3D] {
  return [tf.randomNormal([B, L, 4], 0, 1, 'float32', 1) as tf.Tensor3D, tf.tensor1d([3, 20, 41, 70, 99], 'int32'), tf.randomNormal([B, L, 10], 0, 1, 'float32', 2) as tf.Tensor3D];
}

function applyAs(net: Denoiser, form: 'separate' | 'blockDiagonal'): tf.Tensor3D {
  net.groupForm = form;
  return tf.tidy(() => net.apply(...inputs()));
}

describe('blockDiagonal', () => {
  beforeAll(() => useBackend('wasm'));

  it('places kernels on the diagonal and dense layers side by side', () => {
    const a = { values: Float32Array.from([1, 2, 3, 4, 5, 6]), shape: [2, 1, 3] }; // [K 2, 1, 3]
    const b = { values: Float32Array.from([7, 8, 9, 10]), shape: [2, 2, 1] }; // [K 2, 2, 1]
    const d = blockDiagonal([a, b]);
    expect(d.shape).toEqual([2, 3, 4]);
    expect([...d.values]).toEqual([1, 2, 3, 0, 0, 0, 0, 7, 0, 0, 0, 8, 4, 5, 6, 0, 0, 0, 0, 9, 0, 0, 0, 10]);
    const s = sideBySide([{ values: Float32Array.from([1, 2, 3, 4]), shape: [2, 2] }, { values: Float32Array.from([5, 6]), shape: [2, 1] }]);
    expect(s.shape).toEqual([2, 3]);
    expect([...s.values]).toEqual([1, 2, 5, 3, 4, 6]);
    expect([...sideBySide([{ values: Float32Array.from([1]), shape: [1] }, { values: Float32Array.from([2, 3]), shape: [2] }]).values]).toEqual([1, 2, 3]);
  });

  it('gives the separate nets\' outputs', () => {
    const net = new Denoiser(ARGS);
    net.fuseGroups();
    const [sep, block] = [applyAs(net, 'separate'), applyAs(net, 'blockDiagonal')];
    expect(tf.tidy(() => tf.max(tf.abs(sep)).dataSync()[0])).toBeGreaterThan(0);
    expect(maxAbsDiff(sep, block)).toBeLessThan(1e-6);
    tf.dispose([sep, block]);
    net.dispose();
  });

  it('needs fuseGroups again after setWeights, then follows the new weights', () => {
    const net = new Denoiser(ARGS);
    net.fuseGroups();
    const other = new Denoiser({ ...ARGS, seed: 9 });
    net.setWeights(other.getWeights());
    net.groupForm = 'blockDiagonal';
    expect(() => tf.tidy(() => net.apply(...inputs()))).toThrow(/fuseGroups/);
    net.fuseGroups();
    const [sep, block] = [applyAs(net, 'separate'), applyAs(other, 'separate')];
    const fused = applyAs(net, 'blockDiagonal');
    expect(maxAbsDiff(sep, block)).toBe(0);
    expect(maxAbsDiff(fused, block)).toBeLessThan(1e-6);
    tf.dispose([sep, block, fused]);
    net.dispose();
    other.dispose();
  });

  it('keeps its weights for the model\'s life and frees them with it', () => {
    const before = tf.memory().numTensors;
    const net = new Denoiser(ARGS);
    net.fuseGroups();
    const held = tf.memory().numTensors;
    tf.dispose(applyAs(net, 'blockDiagonal'));
    expect(tf.memory().numTensors).toBe(held);
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
