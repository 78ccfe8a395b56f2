/**
 * One backend's part of bench/gpu-check.sh: prints one JSON line with what the backend is, a
 * 200-step training run, scoring throughput per batch size and a numeric comparison with the CPU
 * backends (wasm and cpu) on the same weights.
 *
 *   npx tsx scripts/native/gpuCheck.ts --backend tensorflow [--steps 200] [--batches 64,256,...] [--budget-s 120]
 *
 * Always exits 0 with `available: false` and the reason when the backend cannot be initialised,
 * so the caller can tabulate every backend.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { setLogLevel, createLogger } from '../../src/log.ts';
import { initBackend, type BackendName } from '../../src/model/backend.ts';
import { MANIFEST_FORMAT, MANIFEST_FORMAT_VERSION, makeTrainedModel, type TrainedModel } from '../../src/model/checkpoint.ts';
import { Denoiser } from '../../src/model/denoiser.ts';
import { GaussianDiffusion, seededRng } from '../../src/model/diffusion.ts';
import { resolveModelConfig } from '../../src/model/modelConfig.ts';
import { makeNoiseSchedule, resolveNoiseScheduleArgs } from '../../src/model/noiseSchedule.ts';
import { scoreWindows } from '../../src/model/windowScorer.ts';

const { values: flags } = parseArgs({
  options: {
    backend: { type: 'string', default: 'tensorflow' },
    steps: { type: 'string', default: '200' },
    batches: { type: 'string', default: '64,256,1024,4096,8192' },
    'budget-s': { type: 'string', default: '120' },
  },
});
const BACKEND = flags.backend as BackendName;
const STEPS = Number(flags.steps);
const BATCHES = flags.batches.split(',').map(Number);
const deadline = performance.now() + 1000 * Number(flags['budget-s']);
setLogLevel('warn');
const log = createLogger('gpu-check');

// The default model (window 64, width 32, depth 4, K = 4 draws, S = 1) on 3 channels.
const CFG = resolveModelConfig({});
const CHANNELS = ['a', 'b', 'c'];
const L = CFG.windowLength;
const C = CHANNELS.length;

/** n windows `[n, L, C]`: sines of varying phase plus deterministic noise. */
function windows(n: number, seed = 5): Float32Array {
  const rng = seededRng(seed);
  const out = new Float32Array(n * L * C);
  for (let i = 0; i < out.length; i++) out[i] = Math.sin(0.2 * Math.floor(i / C) + (i % C)) + 0.1 * (rng() - 0.5);
  return out;
}

/** A model whose weights are `values` (or the seeded initialisation when absent), on the current backend. */
function buildModel(values?: Record<string, Float32Array>): TrainedModel {
  const net = new Denoiser({ channels: C, width: CFG.width, depth: CFG.depth, kernelSize: CFG.kernelSize, embedDim: CFG.embedDim, seed: 1 });
  if (values) tf.tidy(() => net.setWeights(Object.fromEntries(Object.entries(net.getWeights()).map(([k, v]) => [k, tf.tensor(values[k], v.shape)]))));
  return makeTrainedModel(
    {
      format: MANIFEST_FORMAT, formatVersion: MANIFEST_FORMAT_VERSION, version: '',
      schedule: resolveNoiseScheduleArgs({ kind: CFG.scheduleKind, T: CFG.T }), denoiser: net.getConfig(),
      t0: CFG.t0, steps: CFG.steps, draws: CFG.draws, scoreSeed: 1, windowLength: L, channels: CHANNELS,
      normalization: { kind: 'robust', center: [0, 0, 0], scale: [1, 1, 1], floored: [false, false, false], windowCentering: false },
      trainingData: { firstTimestamp: 0, lastTimestamp: 0, rows: 0, trainRows: 0, trainWindows: 0, validationWindows: 0 },
      seed: 1, training: { ...CFG }, losses: { train: [], validation: [], bestEpoch: 0, bestValidation: 0 },
      validationScores: { windows: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 },
    },
    net,
  );
}

const weightsOf = (m: TrainedModel) => Object.fromEntries(Object.entries(m.denoiser.getWeights()).map(([k, v]) => [k, v.dataSync() as Float32Array]));

/** Largest |a - b| / max(|b|, 1% of max |b|). */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  const scale = b.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  return a.reduce((w, x, i) => Math.max(w, Math.abs(x - b[i]) / Math.max(Math.abs(b[i]), 0.01 * scale)), 0);
}

/** Adam steps on batches of 64 until STEPS or the time budget; steps/s after 3 warm-up steps. */
function trainRun(model: TrainedModel): { steps: number; stepsPerSec: number; firstLoss: number; lastLoss: number } {
  const diffusion = new GaussianDiffusion(makeNoiseSchedule({ kind: CFG.scheduleKind, T: CFG.T }));
  const optimizer = tf.train.adam(CFG.lr);
  const rng = seededRng(2);
  const x0 = tf.tensor3d(windows(CFG.batchSize, 9), [CFG.batchSize, L, C]); // [64, L, C]
  const step = () => tf.tidy(() => optimizer.minimize(() => diffusion.trainingLoss(model.denoiser, x0, { rng }), true, model.denoiser.trainableVariables())!.dataSync()[0]);
  try {
    const firstLoss = step();
    step();
    step();
    const start = performance.now();
    const budgetEnd = Math.min(deadline - 20_000, start + 0.6 * (deadline - start)); // leave time for scoring
    let n = 0;
    let lastLoss = firstLoss;
    while (n < STEPS && performance.now() < budgetEnd) {
      lastLoss = step();
      n++;
    }
    return { steps: n + 3, stepsPerSec: n / ((performance.now() - start) / 1000), firstLoss, lastLoss };
  } finally {
    tf.dispose(x0);
    optimizer.dispose();
  }
}

/** Windows/s of scoreWindows at each batch size (one network call per batch), ≥ 1 s or 3 calls each, within the budget. */
function throughput(model: TrainedModel): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  const data = windows(Math.max(...BATCHES), 13);
  for (const b of BATCHES) {
    if (performance.now() > deadline - 5_000) { out[b] = 'skipped (time budget)'; continue; }
    try {
      const batch = data.subarray(0, b * L * C);
      scoreWindows(model, batch, b, { batchSize: b }); // warm-up: kernels, JIT, allocations
      const start = performance.now();
      let calls = 0;
      do { scoreWindows(model, batch, b, { batchSize: b }); calls++; } while ((calls < 3 || performance.now() - start < 1000) && performance.now() - start < 15_000);
      out[b] = Math.round((calls * b) / ((performance.now() - start) / 1000));
    } catch (err) {
      out[b] = `failed: ${String((err as Error).message ?? err).split('\n')[0].slice(0, 120)}`;
      break; // larger batches would fail the same way (memory)
    }
  }
  return out;
}

/**
 * tfjs-backend-webgpu needs `navigator.gpu`, which Node lacks: the `webgpu` package (Dawn) provides
 * it. Returns what Dawn reports, so the table says whether it found the GPU even when tfjs fails.
 */
async function setUpDawn(): Promise<string> {
  let dawn: { create(flags: string[]): { requestAdapter(): Promise<{ info?: unknown } | null> }; globals: object };
  try {
    dawn = (await import('webgpu' as string)) as typeof dawn;
  } catch (err) {
    return `'webgpu' (Dawn) package not installed: ${String((err as Error).message).split('\n')[0].slice(0, 100)}`;
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const adapter = await gpu.requestAdapter();
  return adapter ? `Dawn adapter: ${JSON.stringify(adapter.info ?? {})}` : 'Dawn found no adapter';
}

async function main(): Promise<Record<string, unknown>> {
  const dawn = BACKEND === 'webgpu' ? await setUpDawn() : undefined;
  try {
    await initBackend(BACKEND, log);
  } catch (err) {
    return { backend: BACKEND, available: false, reason: String((err as Error).message).slice(0, 400), ...(dawn ? { dawn } : {}) };
  }
  const info: Record<string, unknown> = { backend: BACKEND, available: true, selected: tf.getBackend() };
  const b = tf.backend() as unknown as { binding?: { TF_Version: string }; isUsingGpuDevice?: boolean; adapterInfo?: unknown };
  if (b.binding) Object.assign(info, { libtensorflow: b.binding.TF_Version, gpu: Boolean(b.isUsingGpuDevice) });
  if (dawn) info.dawn = dawn;

  // Same weights everywhere: drawn once here, copied to the CPU backends below.
  const model = buildModel();
  const values = weightsOf(model);
  const compareN = 64;
  const cmp = windows(compareN, 21);
  const here = scoreWindows(model, cmp, compareN).pointScores;
  info.throughput = throughput(model);
  info.training = trainRun(model);
  model.dispose();

  const compare: Record<string, number | string> = {};
  for (const ref of ['wasm', 'cpu'] as const) {
    if (ref === BACKEND) continue;
    try {
      await initBackend(ref, log);
      const m = buildModel(values);
      compare[ref] = maxRelDiff(here, scoreWindows(m, cmp, compareN).pointScores);
      m.dispose();
    } catch (err) {
      compare[ref] = `failed: ${String((err as Error).message).slice(0, 120)}`;
    }
  }
  info.maxRelDiff = compare;
  return info;
}

console.log(JSON.stringify(await main()));
