/**
 * The model benchmark: scoring throughput through the worker pool, training speed and achieved
 * GFLOP/s of the default univariate model, on every TF.js backend this machine has.
 *
 *   npx tsx bench/model.ts                          # 5 runs per figure, table
 *   npx tsx bench/model.ts --runs 3 --json > model.json
 *   npx tsx bench/model.ts --backends wasm --batches 64,256 --workers 2 --conv conv1d
 *   npx tsx bench/model.ts --epoch                  # also time one real epoch with train() (where it takes < 5 min)
 *
 * The model has random weights (speed does not depend on them): window 64, one channel, the
 * default denoiser (width 32, depth 4, kernel 3), one DDIM step and K = 1 draw. Every figure is
 * the median of `--runs` runs; each inference run scores batches back to back for at least
 * `--seconds`, one `score()` call at a time, as the service does. Inference runs with both
 * convolution forms of the denoiser (`--conv`): 'unfold' (slices, a concat and a matMul) and
 * 'conv1d' (the backend's convolution kernel, with gradConv1d.ts's gradient: the default, and what
 * the scoring workers pick on wasm, tensorflow and cpu); training steps are timed in both.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, setLogLevel } from '../src/log.ts';
import { initBackend, type BackendName } from '../src/model/backend.ts';
import { MANIFEST_FORMAT, MANIFEST_FORMAT_VERSION, makeTrainedModel, saveCheckpoint, type ModelManifest } from '../src/model/checkpoint.ts';
import { Denoiser, type ConvImpl, type DenoiserArgs } from '../src/model/denoiser.ts';
import { GaussianDiffusion, seededRng } from '../src/model/diffusion.ts';
import { createDiffusionScorer } from '../src/modelOps/diffusionScorer.ts';
import { resolveModelConfig, type ModelConfig } from '../src/model/modelConfig.ts';
import { makeNoiseSchedule, resolveNoiseScheduleArgs } from '../src/model/noiseSchedule.ts';
import { train } from '../src/model/trainer.ts';
import { listFlag } from './common.ts';
import { forwardFlops } from './flops.ts';
import type { Window } from '../src/types.ts';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '1' },
    backends: { type: 'string', default: 'tensorflow,webgpu,wasm,cpu' },
    batches: { type: 'string', default: '1,16,64,256' },
    workers: { type: 'string', default: '1,2' },
    conv: { type: 'string', default: 'unfold,conv1d' },
    'train-steps': { type: 'string', default: '10' },
    epoch: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const RUNS = Number(flags.runs);
const SECONDS = Number(flags.seconds);
const TARGET = { windowsPerSec2Workers: 2_000, epochSeconds: 60, epochWindows: 10_000 };

setLogLevel('warn');
const log = createLogger('bench');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const progress = (msg: string) => process.stderr.write(`${msg}\n`);

/** The benchmark's model settings: the defaults, except K = 1 draw. */
const CFG: ModelConfig = resolveModelConfig({ draws: 1, steps: 1 });
const L = CFG.windowLength;
const denoiserArgs: Partial<DenoiserArgs> & { channels: number } = { channels: 1, width: CFG.width, depth: CFG.depth, kernelSize: CFG.kernelSize, embedDim: CFG.embedDim, seed: CFG.seed };

const FWD = forwardFlops({ ...CFG, channels: 1 }, L);
/** Scoring runs the net S·K times per window; a training step ≈ 3 forward passes (backward ≈ 2×). */
const SCORE_FLOPS = FWD * CFG.steps * CFG.draws;
const TRAIN_FLOPS = 3 * FWD;

/** Sines of random phase and period plus noise, `[n, L]` (C = 1). */
function sines(n: number, seed: number): Float32Array {
  const rng = seededRng(seed);
  const v = new Float32Array(n * L);
  for (let b = 0; b < n; b++) {
    const [phase, period] = [rng() * 2 * Math.PI, 16 + 16 * rng()];
    for (let i = 0; i < L; i++) v[b * L + i] = Math.sin(phase + (2 * Math.PI * i) / period) + 0.05 * (rng() - 0.5);
  }
  return v;
}

function windowsOf(values: Float32Array, n: number): Window[] {
  return Array.from({ length: n }, (_, b) => ({
    entityId: `m${b}`, channels: ['value'], length: L, startTime: 0, endTime: L - 1,
    timestamps: Float64Array.from({ length: L }, (_, i) => i), values: values.slice(b * L, (b + 1) * L),
    hasGap: false, sources: [], releases: [],
  }));
}

async function saveRandomModel(dir: string): Promise<void> {
  const net = new Denoiser(denoiserArgs);
  const manifest: ModelManifest = {
    format: MANIFEST_FORMAT, formatVersion: MANIFEST_FORMAT_VERSION, version: '',
    schedule: resolveNoiseScheduleArgs({ kind: CFG.scheduleKind, T: CFG.T }), denoiser: net.getConfig(),
    t0: CFG.t0, steps: CFG.steps, draws: CFG.draws, scoreSeed: CFG.seed, windowLength: L, channels: ['value'],
    normalization: { kind: 'robust', center: [0], scale: [1], floored: [false], windowCentering: false },
    trainingData: { firstTimestamp: 0, lastTimestamp: 0, rows: 0, trainRows: 0, trainWindows: 0, validationWindows: 0 },
    seed: CFG.seed, training: { ...CFG }, losses: { train: [], validation: [], bestEpoch: 0, bestValidation: 0 },
    validationScores: { windows: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 },
  };
  const model = makeTrainedModel(manifest, net);
  await saveCheckpoint(dir, model);
  model.dispose();
}

interface InferenceRow { backend: string; conv: ConvImpl; workers: number; batch: number; windowsPerSec: number; msPerCall: number; gflops: number; runs: number[] }

async function benchInference(backend: BackendName, conv: ConvImpl, modelDir: string, workers: number, batches: number[]): Promise<InferenceRow[]> {
  const scorer = await createDiffusionScorer({ modelDir, workers, backend, conv, maxBatch: 256, workerLogLevel: 'warn', log });
  const rows: InferenceRow[] = [];
  try {
    for (const batch of batches) {
      const windows = windowsOf(sines(batch, batch), batch);
      for (let i = 0; i < 2; i++) await scorer.score(windows); // warm-up: kernels, caches, first allocations
      const runs: number[] = [];
      let calls = 0;
      for (let r = 0; r < RUNS; r++) {
        const start = performance.now();
        let n = 0;
        do {
          const scores = await scorer.score(windows);
          if (scores.length !== batch || !scores.every((s) => Number.isFinite(s.score))) throw new Error(`bench: ${scores.length} scores for ${batch} windows, or a non-finite score`);
          n++;
        } while (performance.now() - start < SECONDS * 1000);
        runs.push((n * batch) / ((performance.now() - start) / 1000));
        calls += n;
      }
      const windowsPerSec = median(runs);
      rows.push({ backend, conv, workers, batch, windowsPerSec, msPerCall: (1000 * batch) / windowsPerSec, gflops: (windowsPerSec * SCORE_FLOPS) / 1e9, runs });
      progress(`  ${backend} ${conv} workers=${workers} batch=${batch}: ${windowsPerSec.toFixed(0)} windows/s (${calls} calls)`);
    }
  } finally {
    await scorer.close();
  }
  return rows;
}

interface TrainingResult { conv: ConvImpl; batch: number; stepsPerSec: number; msPerStep: number; gflops: number; epochSecondsEstimate: number; epochSecondsMeasured?: number; runs: number[] }

async function benchTraining(backend: BackendName, conv: ConvImpl, steps: number, measureEpoch: boolean): Promise<TrainingResult> {
  await initBackend(backend, log);
  const batch = CFG.batchSize;
  const net = new Denoiser(denoiserArgs);
  net.convImpl = conv;
  const diffusion = new GaussianDiffusion(makeNoiseSchedule({ kind: CFG.scheduleKind, T: CFG.T }));
  const optimizer = tf.train.adam(CFG.lr);
  const rng = seededRng(1);
  const x0 = tf.tensor3d(sines(batch, 7), [batch, L, 1]); // [batch, L, 1]
  const step = () => tf.tidy(() => optimizer.minimize(() => diffusion.trainingLoss(net, x0, { rng }), true, net.trainableVariables())!.dataSync()[0]);
  const runs: number[] = [];
  try {
    for (let i = 0; i < 2; i++) step();
    for (let r = 0; r < RUNS; r++) {
      const start = performance.now();
      let n = 0;
      // At least one step, at most `steps`, and no more than ~5 s on a slow backend.
      do {
        step();
        n++;
      } while (n < steps && performance.now() - start < 5_000);
      runs.push(n / ((performance.now() - start) / 1000));
    }
  } finally {
    tf.dispose(x0);
    net.dispose();
    optimizer.dispose();
  }
  const stepsPerSec = median(runs);
  const stepsPerEpoch = Math.ceil(TARGET.epochWindows / batch);
  const result: TrainingResult = { conv, batch, stepsPerSec, msPerStep: 1000 / stepsPerSec, gflops: (stepsPerSec * batch * TRAIN_FLOPS) / 1e9, epochSecondsEstimate: stepsPerEpoch / stepsPerSec, runs };
  // A real epoch only where it takes minutes at most (on the cpu backend it would take ~20), and
  // only in the form train() uses (the denoiser's default, 'conv1d').
  if (measureEpoch && conv === 'conv1d' && result.epochSecondsEstimate < 300) result.epochSecondsMeasured = await timeOneEpoch();
  progress(`  ${backend} ${conv} training: ${stepsPerSec.toFixed(2)} steps/s, epoch ≈ ${result.epochSecondsEstimate.toFixed(1)} s${result.epochSecondsMeasured ? ` (measured ${result.epochSecondsMeasured.toFixed(1)} s)` : ''}`);
  return result;
}

/** One real epoch of train() over 10,000 training windows: from the call to the epoch's last step (validation included). */
async function timeOneEpoch(): Promise<number> {
  const validationFraction = 0.1;
  // windows = rows - L + 1; training windows ≈ (1 - f)·windows - L (the gap before validation).
  const rows = Math.ceil((TARGET.epochWindows + L) / (1 - validationFraction)) + L;
  const rng = seededRng(3);
  const values = Float64Array.from({ length: rows }, (_, i) => Math.sin((2 * Math.PI * i) / 24) + 0.05 * (rng() - 0.5));
  const series = { values, channels: ['value'], timestamps: Float64Array.from({ length: rows }, (_, i) => i * 1000) };
  const start = performance.now();
  let epochEnd = 0;
  const model = await train(series, { ...CFG, epochs: 1, validationFraction }, { onProgress: (p) => void (p.valLoss !== undefined && (epochEnd = performance.now())) });
  model.dispose();
  return (epochEnd - start) / 1000;
}

async function probe(name: BackendName): Promise<string | null> {
  try {
    await initBackend(name, log);
    return null;
  } catch (err) {
    // initBackend's message wraps the reason in advice; the table wants the reason alone.
    const message = (err as Error).message;
    return /is unavailable \(\w+: (.*)\); install/.exec(message)?.[1] ?? message;
  }
}

const loadStart = os.loadavg();
const modelDir = await mkdtemp(path.join(os.tmpdir(), 'diffwatch-bench-'));
const backends: { name: BackendName; available: boolean; reason?: string; inference?: InferenceRow[]; training?: TrainingResult[] }[] = [];
try {
  await initBackend('cpu', log);
  await saveRandomModel(modelDir);
  for (const name of listFlag(flags.backends) as BackendName[]) {
    const reason = await probe(name);
    if (reason !== null) {
      backends.push({ name, available: false, reason });
      progress(`${name}: unavailable (${reason})`);
      continue;
    }
    progress(`${name}:`);
    const inference: InferenceRow[] = [];
    for (const conv of listFlag(flags.conv) as ConvImpl[]) {
      for (const w of listFlag(flags.workers).map(Number)) inference.push(...(await benchInference(name, conv, modelDir, w, listFlag(flags.batches).map(Number))));
    }
    const training: TrainingResult[] = [];
    for (const conv of listFlag(flags.conv) as ConvImpl[]) training.push(await benchTraining(name, conv, Number(flags['train-steps']), flags.epoch));
    backends.push({ name, available: true, inference, training });
  }
} finally {
  await rm(modelDir, { recursive: true, force: true });
}

const best2 = Math.max(0, ...backends.flatMap((b) => b.inference ?? []).filter((r) => r.workers === 2).map((r) => r.windowsPerSec));
const bestEpoch = Math.min(Infinity, ...backends.flatMap((b) => b.training ?? []).map((t) => t.epochSecondsMeasured ?? t.epochSecondsEstimate));
const report = {
  machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadavgStart: loadStart, loadavgEnd: os.loadavg() },
  settings: { runs: RUNS, seconds: SECONDS, windowLength: L, channels: 1, width: CFG.width, depth: CFG.depth, kernelSize: CFG.kernelSize, embedDim: CFG.embedDim, t0: CFG.t0, steps: CFG.steps, draws: CFG.draws, trainBatch: CFG.batchSize },
  flops: { forwardPerWindow: FWD, scorePerWindow: SCORE_FLOPS, trainPerWindow: TRAIN_FLOPS },
  backends,
  targets: {
    scoring: { target: TARGET.windowsPerSec2Workers, best2Workers: Math.round(best2), met: best2 >= TARGET.windowsPerSec2Workers },
    epoch: { target: TARGET.epochSeconds, windows: TARGET.epochWindows, bestSeconds: +bestEpoch.toFixed(1), met: bestEpoch <= TARGET.epochSeconds },
  },
};

if (flags.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const fmt = (n: number, d = 0) => n.toFixed(d).padStart(9);
  console.log(`model: L=${L} C=1 width=${CFG.width} depth=${CFG.depth} K=${CFG.kernelSize} S=${CFG.steps} draws=${CFG.draws}; ${(FWD / 1e6).toFixed(2)} MFLOP per window forward`);
  console.log(`machine: ${report.machine.cpus} × ${report.machine.cpu}, node ${process.version}, load ${loadStart.map((x) => x.toFixed(2)).join(' ')} → ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; medians of ${RUNS} runs\n`);
  console.log('backend    conv       workers    batch  windows/s  ms/call  GFLOP/s');
  for (const b of backends) {
    if (!b.available) console.log(`${b.name.padEnd(10)}  unavailable: ${b.reason}`);
    for (const r of b.inference ?? []) console.log(`${r.backend.padEnd(10)} ${r.conv.padEnd(8)}${fmt(r.workers)}${fmt(r.batch)}${fmt(r.windowsPerSec)}${fmt(r.msPerCall, 1)}${fmt(r.gflops, 2)}`);
  }
  console.log('\nbackend    conv         batch  steps/s  ms/step  GFLOP/s  epoch s (10,000 windows)');
  for (const [b, t] of backends.flatMap((x) => (x.training ?? []).map((t) => [x, t] as const))) {
    console.log(`${b.name.padEnd(10)} ${t.conv.padEnd(8)}${fmt(t.batch)}${fmt(t.stepsPerSec, 2)}${fmt(t.msPerStep, 0)}${fmt(t.gflops, 2)}   ${t.epochSecondsEstimate.toFixed(1)} est.${t.epochSecondsMeasured !== undefined ? `, ${t.epochSecondsMeasured.toFixed(1)} measured` : ''}`);
  }
  const { scoring, epoch } = report.targets;
  console.log(`\ntargets: scoring ≥ ${scoring.target} windows/s with 2 workers: best ${scoring.best2Workers} (${scoring.met ? 'met' : 'missed'}); epoch ≤ ${epoch.target} s: best ${epoch.bestSeconds} s (${epoch.met ? 'met' : 'missed'})`);
}
