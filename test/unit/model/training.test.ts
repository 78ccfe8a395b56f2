import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Denoiser } from '../../../src/model/denoiser.ts';
import { GaussianDiffusion, seededRng, type Rng } from '../../../src/model/diffusion.ts';
import { makeNoiseSchedule } from '../../../src/model/noiseSchedule.ts';
import { useBackend } from './helpers.ts';

const LEN = 32;

/** Sines of random phase and a period of 8-16 points: `[B, L, 1]`. */
function sines(rng: Rng, batch: number): tf.Tensor3D {
  const v = new Float32Array(batch * LEN);
  for (let b = 0; b < batch; b++) {
    const [phase, period] = [rng() * 2 * Math.PI, 8 + 8 * rng()];
    for (let i = 0; i < LEN; i++) v[b * LEN + i] = Math.sin(phase + (2 * Math.PI * i) / period);
  }
  return tf.tensor3d(v, [batch, LEN, 1]);
}

describe('training smoke test (wasm)', () => {
  beforeAll(() => useBackend('wasm'));

  it('the ε-prediction loss of the default net falls on toy sines within 40 steps', () => {
    const net = new Denoiser({ channels: 1 });
    const diffusion = new GaussianDiffusion(makeNoiseSchedule({ kind: 'cosine', T: 100 }));
    const opt = tf.train.adam(2e-3);
    const rng = seededRng(7);
    // A fixed evaluation set (data, t and ε) so the comparison is not at the mercy of batch noise.
    const evalX = sines(seededRng(99), 64);
    const evalT = tf.tensor1d(Array.from({ length: 64 }, (_, i) => (i * 37) % 100), 'int32');
    const evalNoise = tf.randomNormal([64, LEN, 1], 0, 1, 'float32', 5) as tf.Tensor3D;
    const evalLoss = () => tf.tidy(() => diffusion.trainingLoss(net, evalX, { t: evalT, noise: evalNoise }).dataSync()[0]);

    const initial = evalLoss();
    for (let step = 0; step < 40; step++) {
      const x0 = sines(rng, 32);
      tf.dispose([opt.minimize(() => diffusion.trainingLoss(net, x0, { rng }), true, net.trainableVariables())!, x0]);
    }
    const trained = evalLoss();
    // ε̂ ≈ 0 at the start gives a loss near E[ε²] = 1; learning the sine manifold must cut it well below.
    expect(initial).toBeGreaterThan(0.8);
    expect(trained).toBeLessThan(0.6 * initial);

    opt.dispose();
    tf.dispose([evalX, evalT, evalNoise]);
    net.dispose();
  });
});
