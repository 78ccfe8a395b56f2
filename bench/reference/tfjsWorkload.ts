/**
 * One timed run of the TF.js side of the PyTorch comparison, for bench/reference/vsTorch.ts, on one
 * backend: scoring windows/s through the service's scorer (`createDiffusionScorer`: the worker
 * pool, `scoreWindows`, conv form 'auto'), and training steps/s of the trainer's step (fitLoop in
 * trainer.ts: Adam on the imputation objective with fresh masks, t and ε, then the EMA update).
 * Prints one JSON object.
 *
 *   TF_NUM_INTRAOP_THREADS=1 npx tsx bench/reference/tfjsWorkload.ts --model <checkpoint> --backend tensorflow --workers 1
 *
 * Threads: a wasm worker computes in one thread, so the wasm backend's thread count is its number
 * of workers (and it trains in one). libtensorflow sizes its pools from TF_NUM_INTRAOP_THREADS and
 * TF_NUM_INTEROP_THREADS when it starts, so vsTorch.ts sets them before this process starts.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { createLogger, setLogLevel } from '../../src/log.ts';
import { initBackend, type BackendName } from '../../src/model/backend.ts';
import { FlatAdam } from '../../src/model/flatAdam.ts';
import { CALENDAR_FEATURES, calendarFeatures } from '../../src/model/calendar.ts';
import { loadCheckpoint } from '../../src/model/checkpoint.ts';
import { seededRng } from '../../src/model/diffusion.ts';
import { trainingObjective } from '../../src/model/imputationTraining.ts';
import { WeightAverage } from '../../src/model/weightAverage.ts';
import { createDiffusionScorer } from '../../src/modelOps/diffusionScorer.ts';
import { asStreamWindows, referenceWindows } from './referenceModel.ts';

const { values: flags } = parseArgs({
  options: {
    model: { type: 'string' },
    backend: { type: 'string', default: 'wasm' },
    workers: { type: 'string', default: '1' },
    batch: { type: 'string', default: '256' },
    seconds: { type: 'string', default: '2' },
    'train-steps': { type: 'string', default: '5' },
    'no-train': { type: 'boolean', default: false },
  },
});
if (!flags.model) throw new Error('tfjsWorkload: --model <checkpoint> is required');
const modelDir = flags.model;
const backend = flags.backend as BackendName;
const SECONDS = Number(flags.seconds);
setLogLevel('warn');
const log = createLogger('bench');

/** Calls fn back to back for at least `seconds` and `minCalls`: calls, wall s and CPU s of the process (all threads). */
async function timed(fn: () => unknown, seconds: number, minCalls: number): Promise<{ n: number; wall: number; cpu: number }> {
  const [start, cpu0] = [performance.now(), process.cpuUsage()];
  let n = 0;
  while (n < minCalls || performance.now() - start < seconds * 1000) {
    await fn();
    n++;
  }
  const cpu = process.cpuUsage(cpu0);
  return { n, wall: (performance.now() - start) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}

async function benchScoring(batch: number, workers: number) {
  const scorer = await createDiffusionScorer({ modelDir, workers, backend, conv: 'auto', maxBatch: 256, workerLogLevel: 'warn', log });
  try {
    const { windows, timestamps } = referenceWindows(batch, 64, 1, 1);
    const stream = asStreamWindows(windows, timestamps, batch, 64);
    const run = async () => {
      const scores = await scorer.score(stream);
      if (scores.length !== batch || !scores.every((s) => Number.isFinite(s.score))) throw new Error(`tfjsWorkload: ${scores.length} scores for ${batch} windows, or a non-finite score`);
    };
    await run();
    await run();
    const { n, wall, cpu } = await timed(run, SECONDS, 2);
    return { windowsPerSec: (n * batch) / wall, calls: n, cpuShare: cpu / wall, conv: scorer.conv };
  } finally {
    await scorer.close();
  }
}

async function benchTraining(minSteps: number) {
  await initBackend(backend, log);
  const model = await loadCheckpoint(modelDir);
  const { manifest, denoiser: net, diffusion } = model;
  const cfg = manifest.training;
  const L = manifest.windowLength;
  const B = cfg.batchSize;
  const objective = trainingObjective(cfg, manifest.imputation);
  const optimizer = new FlatAdam(net.trainableVariables(), cfg.lr);
  const average = cfg.emaDecay > 0 ? new WeightAverage(net, cfg.emaDecay) : undefined;
  const rng = seededRng(1);
  const { windows, timestamps } = referenceWindows(B, L, 1, 2);
  const x0 = tf.tensor3d(windows, [B, L, 1]); // [B, L, 1]
  const cal = manifest.imputation?.calendar ? tf.tensor3d(calendarFeatures(timestamps), [B, L, CALENDAR_FEATURES]) : undefined; // [B, L, 4]
  // fitLoop's step: minimise, read the loss back, move the average.
  const step = () => {
    const loss = tf.tidy(() => optimizer.minimize(() => objective(net, diffusion, x0, { rng }, cal)).dataSync()[0]);
    average?.update();
    if (!Number.isFinite(loss)) throw new Error('tfjsWorkload: training diverged');
  };
  try {
    step();
    step();
    const { n, wall, cpu } = await timed(step, SECONDS, minSteps);
    return { stepsPerSec: n / wall, steps: n, cpuShare: cpu / wall };
  } finally {
    tf.dispose([x0, ...(cal ? [cal] : [])]);
    average?.dispose();
    optimizer.dispose();
    model.dispose();
  }
}

const result: Record<string, unknown> = { backend, workers: Number(flags.workers), env: { TF_NUM_INTRAOP_THREADS: process.env.TF_NUM_INTRAOP_THREADS, TF_NUM_INTEROP_THREADS: process.env.TF_NUM_INTEROP_THREADS } };
result.scoring = await benchScoring(Number(flags.batch), Number(flags.workers));
if (!flags['no-train']) result.training = await benchTraining(Number(flags['train-steps']));
console.log(JSON.stringify(result));
