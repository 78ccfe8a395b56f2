/**
 * Measures the default denoiser on the chosen backend: training step time, inference
 * windows/s of a one-shot reconstruction, and the loss curve on a toy sine dataset.
 *
 *   npx tsx bench/modelProbe.ts [backend=wasm] [batch=64] [windowLen=64] [steps=20]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendPreference } from '../src/model/backend.ts';
import { Denoiser } from '../src/model/denoiser.ts';
import { GaussianDiffusion, seededRng } from '../src/model/diffusion.ts';
import { makeNoiseSchedule } from '../src/model/noiseSchedule.ts';
import { rootLogger } from '../src/log.ts';

const [pref = 'wasm', batchArg = '64', lenArg = '64', stepsArg = '20'] = process.argv.slice(2);
const [batch, len, steps] = [Number(batchArg), Number(lenArg), Number(stepsArg)];
await initBackend(pref as BackendPreference, rootLogger.namespace('bench'));

/** Sines of random phase and period 16-32 points, plus a little noise: `[B, L, 1]`. */
function sines(rng: () => number, n: number): tf.Tensor3D {
  const v = new Float32Array(n * len);
  for (let b = 0; b < n; b++) {
    const [phase, period] = [rng() * 2 * Math.PI, 16 + 16 * rng()];
    for (let i = 0; i < len; i++) v[b * len + i] = Math.sin(phase + (2 * Math.PI * i) / period) + 0.05 * (rng() - 0.5);
  }
  return tf.tensor3d(v, [n, len, 1]);
}

const net = new Denoiser({ channels: 1 });
const diffusion = new GaussianDiffusion(makeNoiseSchedule({ kind: 'cosine', T: 100 }));
const opt = tf.train.adam(2e-3);
const rng = seededRng(1);
const losses: number[] = [];
const stepMs: number[] = [];
for (let s = 0; s < steps; s++) {
  const x0 = sines(rng, batch);
  const t0 = performance.now();
  const loss = opt.minimize(() => diffusion.trainingLoss(net, x0, { rng }), true, net.trainableVariables())!;
  losses.push(loss.dataSync()[0]);
  stepMs.push(performance.now() - t0);
  tf.dispose([loss, x0]);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({ backend: tf.getBackend(), params: net.countParams(), batch, len, trainStepMsMedian: median(stepMs.slice(1)), firstLosses: losses.slice(0, 5).map((l) => +l.toFixed(3)), lastLosses: losses.slice(-5).map((l) => +l.toFixed(3)) }));

for (const [draws, dsteps, n] of [[1, 1, 256], [4, 1, 256], [4, 3, 128]]) {
  const x0 = sines(rng, n);
  const run = () => {
    const r = diffusion.reconstruct(net, x0, { t0: 30, steps: dsteps, draws, seed: 0 });
    r.sqError.dataSync();
    tf.dispose([r.reconstruction, r.sqError]);
  };
  run();
  const t0 = performance.now();
  const reps = 3;
  for (let i = 0; i < reps; i++) run();
  const sec = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ inference: { draws, steps: dsteps, batch: n, windowsPerSec: Math.round((reps * n) / sec) } }));
  x0.dispose();
}
