import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Denoiser } from '../../../src/model/denoiser.ts';
import { GaussianDiffusion, seededRng } from '../../../src/model/diffusion.ts';
import { FlatAdam } from '../../../src/model/flatAdam.ts';
import { makeNoiseSchedule } from '../../../src/model/noiseSchedule.ts';
import { denoisingObjective } from '../../../src/model/trainingObjective.ts';
import { useBackend } from './helpers.ts';

const weightsOf = (net: Denoiser) => Object.values(net.getWeights()).map((t) => Array.from(t.dataSync()));

/** `steps` Adam steps of the denoising loss from the same start, batches and noise, with `tf.train.adam` or FlatAdam. */
function trainSteps(kind: 'tf' | 'flat', steps: number): number[][] {
  const net = new Denoiser({ channels: 2, width: 8, depth: 2, kernelSize: 3, embedDim: 8, seed: 3 });
  const diffusion = new GaussianDiffusion(makeNoiseSchedule({ kind: 'cosine', T: 50 }));
  const rng = seededRng(9);
  const data = seededRng(4);
  const tfAdam = kind === 'tf' ? tf.train.adam(0.01) : undefined;
  const flat = kind === 'flat' ? new FlatAdam(net.trainableVariables(), 0.01) : undefined;
  try {
    for (let s = 0; s < steps; s++) {
      tf.tidy(() => {
        const x0 = tf.tensor3d(Float32Array.from({ length: 4 * 16 * 2 }, () => data() - 0.5), [4, 16, 2]);
        const f = () => denoisingObjective(net, diffusion, x0, { rng });
        if (tfAdam) tfAdam.minimize(f, false, net.trainableVariables());
        else flat!.minimize(f);
      });
    }
    return weightsOf(net);
  } finally {
    tfAdam?.dispose();
    flat?.dispose();
    net.dispose();
  }
}

describe('FlatAdam', () => {
  beforeAll(() => useBackend('wasm'));

  it('gives the weights tf.train.adam gives, to the bit, over several steps', () => {
    const want = trainSteps('tf', 4);
    const got = trainSteps('flat', 4);
    expect(got).toEqual(want);
    // The steps moved the weights: equal weights do not come from two optimizers that did nothing.
    const net = new Denoiser({ channels: 2, width: 8, depth: 2, kernelSize: 3, embedDim: 8, seed: 3 });
    expect(weightsOf(net)).not.toEqual(got);
    net.dispose();
  });

  it('leaves a variable the loss does not reach where it was, and leaks no tensor', () => {
    const [reached, unreached] = tf.tidy(() => [tf.variable(tf.tensor1d([1, 2, 3])), tf.variable(tf.tensor2d([[4, 5]]))]);
    const before = tf.memory().numTensors;
    const adam = new FlatAdam([reached, unreached], 0.1);
    for (let s = 0; s < 3; s++) tf.dispose(adam.minimize(() => tf.sum(tf.square(reached))));
    expect(Array.from(unreached.dataSync())).toEqual([4, 5]);
    expect(reached.dataSync()[2]).toBeLessThan(3);
    adam.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([reached, unreached]);
  });
});
