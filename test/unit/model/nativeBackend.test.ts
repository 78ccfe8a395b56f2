/**
 * The 'tensorflow' backend (libtensorflow through @tensorflow/tfjs-node or -gpu) against wasm:
 * the same checkpoint must give the same scores and the same gradients, on this thread and in
 * the scoring workers. These tests run only where a native package is installed
 * (`npm run native:setup`, docs/native-backend.md); elsewhere one skipped test says why.
 * The selection and fallback logic that must hold everywhere is in backend.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/model/backend.ts';
import { loadCheckpoint, saveCheckpoint, type TrainedModel } from '../../../src/model/checkpoint.ts';
import type { ConvImpl } from '../../../src/model/denoiser.ts';
import { createDiffusionScorer } from '../../../src/modelOps/diffusionScorer.ts';
import { scoreWindows, type WindowScores } from '../../../src/model/windowScorer.ts';
import type { Window } from '../../../src/types.ts';
import { randomModel } from './diffusionScorer.fixture.ts';
import { captureLogger, useBackend } from './helpers.ts';

const require = createRequire(import.meta.url);

/** The native package initBackend would load first, or null when none is installed. */
function installedNativePackage(): string | null {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require.resolve(pkg);
      return pkg;
    } catch {
      // not installed: try the next one
    }
  }
  return null;
}

const nativePkg = installedNativePackage();
// TensorFlow runs float32 matmuls and convolutions in TF32 (10-bit mantissa) on Ampere and newer GPUs
// by default; this file compares float32 arithmetic, so it turns that off before CUDA reads it.
process.env.NVIDIA_TF32_OVERRIDE ??= '0';

// The default model's shape (MODEL_DEFAULTS: L 64, width 32, depth 4, K 4 draws) on 3 channels.
const CHANNELS = ['temp', 'load', 'fan'];
const L = 64;
const C = CHANNELS.length;
const B = 24;
/**
 * Scores and gradients are float32 sums over thousands of products in another order. Measured with
 * libtensorflow 2.18.1 (oneDNN) on x86: scores within 3e-6 relative, gradients within 1.3e-6 of the
 * gradient's largest entry; 1e-4 leaves room for other CPUs and GPUs.
 */
const TOL = 1e-4;

/** B different windows `[B, L, C]`: a sine per channel, a level per channel, a spike in every fifth. */
function windows(): Float32Array {
  const out = new Float32Array(B * L * C);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < L; i++)
      for (let c = 0; c < C; c++) out[(b * L + i) * C + c] = 10 * c + (1 + c) * Math.sin(0.2 * i + b + c) + (b % 5 === 0 && i === L - 1 ? 5 : 0);
  return out;
}

/**
 * Largest |a - b| relative to |b|, with |b| floored at 1% of the largest |b| so that entries near
 * zero (which carry no signal) cannot dominate.
 */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 0.01 * scale));
  return worst;
}

/**
 * A checkpoint of the default model's shape whose every weight matters: a fresh denoiser's output
 * layer starts near zero (ε̂ ≈ 0), which would leave the scores almost independent of the network,
 * so the output kernel and all biases are redrawn at full scale (seeded).
 */
async function checkpointWithLiveWeights(): Promise<string> {
  const model = randomModel({ channels: CHANNELS, windowLength: L, width: 32, depth: 4, draws: 4, seed: 3 });
  try {
    tf.tidy(() => {
      const redrawn = Object.entries(model.denoiser.getWeights()).map(([name, v], i): [string, tf.Tensor] => {
        if (name === 'outProj/kernel') return [name, tf.randomNormal(v.shape, 0, Math.sqrt(1 / 32), 'float32', 100 + i)];
        if (name.endsWith('/bias')) return [name, tf.randomNormal(v.shape, 0, 0.1, 'float32', 100 + i)];
        return [name, tf.mul(v, 1)]; // a copy: assigning a variable to itself would free its data
      });
      model.denoiser.setWeights(Object.fromEntries(redrawn));
    });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'diffwatch-native-'));
    await saveCheckpoint(dir, model);
    return dir;
  } finally {
    model.dispose();
  }
}

/** Score the fixed windows with the checkpoint in `dir`, loaded fresh on the current backend. */
async function scoreOn(dir: string, conv: ConvImpl): Promise<WindowScores> {
  const model = await loadCheckpoint(dir);
  try {
    model.denoiser.convImpl = conv;
    return scoreWindows(model, windows(), B);
  } finally {
    model.dispose();
  }
}

/** L_simple and its gradient for every weight, with fixed t and ε, on the current backend (the training path: unfold conv). */
async function gradientsOn(dir: string): Promise<{ loss: number; grads: Record<string, Float32Array> }> {
  const model: TrainedModel = await loadCheckpoint(dir);
  try {
    return tf.tidy(() => {
      const x0 = tf.tensor3d(windows().subarray(0, 8 * L * C), [8, L, C]); // [8, L, C]
      const t = tf.tensor1d([0, 5, 10, 20, 30, 50, 80, 99], 'int32'); // [8]
      const noise = tf.randomNormal([8, L, C], 0, 1, 'float32', 11) as tf.Tensor3D; // [8, L, C]
      const { value, grads } = tf.variableGrads(() => model.diffusion.trainingLoss(model.denoiser, x0, { t, noise }), model.denoiser.trainableVariables());
      const byName = Object.fromEntries(Object.entries(model.denoiser.getWeights()).map(([name, v]) => [name, grads[(v as tf.Variable).name].dataSync() as Float32Array]));
      return { loss: value.dataSync()[0], grads: byName };
    });
  } finally {
    model.dispose();
  }
}

if (!nativePkg) {
  describe('tensorflow backend', () => {
    it.skip('needs @tensorflow/tfjs-node or -gpu, which is not installed: run `npm run native:setup` (docs/native-backend.md)', () => {});
  });
} else {
  describe(`tensorflow backend (${nativePkg})`, () => {
    let dir: string;
    let wasm: Record<ConvImpl, WindowScores>;
    let wasmGrads: Awaited<ReturnType<typeof gradientsOn>>;

    beforeAll(async () => {
      await useBackend('wasm');
      dir = await checkpointWithLiveWeights();
      wasm = { unfold: await scoreOn(dir, 'unfold'), conv1d: await scoreOn(dir, 'conv1d') };
      wasmGrads = await gradientsOn(dir);
      await useBackend('tensorflow');
    });

    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("is what initBackend('tensorflow') selects, and reports the libtensorflow it was built against", async () => {
      const log = captureLogger();
      expect(await initBackend('tensorflow', log)).toEqual({ name: 'tensorflow', reasons: {} });
      const binding = (tf.backend() as unknown as { binding: { TF_Version: string } }).binding;
      expect(binding.TF_Version).toMatch(/^2\.\d+\.\d+/);
      const buildFile = path.join(path.dirname(require.resolve(`${nativePkg}/package.json`)), 'native-build.json');
      let build: { tensorflow: string } | null = null;
      try {
        build = JSON.parse(readFileSync(buildFile, 'utf8'));
      } catch {
        // installed some other way than scripts/native-setup.sh: nothing to compare against
      }
      if (build) expect(binding.TF_Version).toBe(build.tensorflow);
    });

    it.each(['unfold', 'conv1d'] as const)('scores the same checkpoint like wasm to 1e-4 (%s conv)', async (conv) => {
      const got = await scoreOn(dir, conv);
      expect(tf.getBackend()).toBe('tensorflow');
      expect(maxRelDiff(got.pointScores, wasm[conv].pointScores)).toBeLessThan(TOL);
      expect(maxRelDiff(got.channelContributions, wasm[conv].channelContributions)).toBeLessThan(TOL);
      // The reference windows score differently (over a wide range), so an elementwise match is
      // not a match of constants, and a shuffled or shifted result could not pass.
      const ref = wasm[conv].windowScores;
      expect(new Set(ref).size).toBe(B);
      expect(Math.max(...ref)).toBeGreaterThan(1.5 * Math.min(...ref));
    });

    it('computes the training loss and every weight gradient like wasm to 1e-4', async () => {
      const got = await gradientsOn(dir);
      expect(Math.abs(got.loss - wasmGrads.loss) / wasmGrads.loss).toBeLessThan(TOL);
      expect(Object.keys(got.grads).sort()).toEqual(Object.keys(wasmGrads.grads).sort());
      for (const [name, g] of Object.entries(got.grads)) {
        // Relative to the largest entry of the weight's gradient: single entries near zero carry no signal.
        const want = wasmGrads.grads[name];
        const scale = Math.max(...Array.from(want, Math.abs));
        let worst = 0;
        for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i] - want[i]));
        expect(worst / scale, name).toBeLessThan(TOL);
      }
    });

    it('leaks no tensor across repeated scoring', async () => {
      const model = await loadCheckpoint(dir);
      try {
        scoreWindows(model, windows(), B); // first call: caches, kernels
        const before = tf.memory().numTensors;
        for (let i = 0; i < 3; i++) scoreWindows(model, windows(), B, { batchSize: 7 });
        expect(tf.memory().numTensors).toBe(before);
      } finally {
        model.dispose();
      }
    });

    it('runs in the scoring workers, with the scores of this thread', async () => {
      const scorer = await createDiffusionScorer({ modelDir: dir, workers: 2, backend: 'tensorflow', conv: 'unfold', maxBatch: 8, log: captureLogger(), workerLogLevel: 'warn' });
      try {
        expect(scorer.backend).toBe('tensorflow');
        const values = windows();
        const batch: Window[] = Array.from({ length: B }, (_, b) => ({
          entityId: `e${b}`, channels: CHANNELS, length: L, startTime: 0, endTime: L - 1,
          timestamps: Float64Array.from({ length: L }, (_, i) => i), values: values.slice(b * L * C, (b + 1) * L * C),
          hasGap: false, sources: [], releases: [],
        }));
        const got = await scorer.score(batch);
        const want = await scoreOn(dir, 'unfold'); // this thread, tensorflow
        expect(maxRelDiff(got.map((s) => s.score), want.windowScores)).toBeLessThan(1e-6);
      } finally {
        await scorer.close();
      }
    });
  });
}
