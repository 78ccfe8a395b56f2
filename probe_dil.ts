import * as tf from '@tensorflow/tfjs';
import { initBackend } from './src/model/backend.ts';
import { Denoiser } from './src/model/denoiser.ts';
import { GaussianDiffusion, seededRng } from './src/model/diffusion.ts';
import { makeNoiseSchedule } from './src/model/noiseSchedule.ts';
import { createLogger, setLogLevel } from './src/log.ts';
setLogLevel('silent');
await initBackend('wasm', createLogger());
const LEN = 64;
function data(rng: () => number, n: number) {
  const v = new Float32Array(n * LEN);
  for (let b = 0; b < n; b++) { const ph = rng() * 6.28, p = 16 + 32 * rng(), p2 = 5 + 3 * rng();
    for (let i = 0; i < LEN; i++) v[b * LEN + i] = Math.sin(ph + 6.28 * i / p) + 0.3 * Math.sin(6.28 * i / p2) + 0.1 * (rng() - 0.5); }
  return tf.tensor3d(v, [n, LEN, 1]);
}
const diffusion = new GaussianDiffusion(makeNoiseSchedule({ kind: 'cosine', T: 100 }));
for (const dilations of [[1, 1, 1, 1], [1, 2, 4, 8], [1, 2, 1, 2]]) {
  const net = new Denoiser({ channels: 1, dilations });
  const opt = tf.train.adam(2e-3); const rng = seededRng(1);
  const t0 = performance.now();
  for (let s = 0; s < 100; s++) { const x = data(rng, 32); tf.dispose([opt.minimize(() => diffusion.trainingLoss(net, x, { rng }), true, net.trainableVariables())!, x]); }
  const ms = (performance.now() - t0) / 100;
  const ex = data(seededRng(5), 256);
  // eval: reconstruction error at t0=30 one-shot, K=1 (lower = better model of normal data)
  const r = diffusion.reconstruct(net, ex, { t0: 30, steps: 1, draws: 1, seed: 3 });
  const tEval = tf.tensor1d(Array.from({ length: 256 }, (_, i) => i % 100), 'int32');
  const nz = tf.randomNormal([256, LEN, 1], 0, 1, 'float32', 9) as tf.Tensor3D;
  const l = diffusion.trainingLoss(net, ex, { t: tEval, noise: nz });
  console.log(JSON.stringify({ dilations, msPerStep: Math.round(ms), evalLoss: +l.dataSync()[0].toFixed(4), reconMse: +tf.mean(r.sqError).dataSync()[0].toFixed(4) }));
}
