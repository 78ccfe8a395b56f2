/**
 * Where the time of one scoring call and one training step goes on a TF.js backend: `tf.profile`
 * kernel times, summed per kernel. The PyTorch counterpart is `workload.py --profile`.
 *
 *   TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 npx tsx bench/reference/profile.ts --backend tensorflow
 *   npx tsx bench/reference/profile.ts --backend wasm --model <checkpoint>
 *
 * Scoring runs `scoreWindows` in this thread on `--batch` windows with the conv form a scoring
 * worker picks ('conv1d'); training runs fitLoop's step (the conv1d form, FlatAdam), as tfjsWorkload.ts does.
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
import { scoreWindows } from '../../src/model/windowScorer.ts';
import { referenceModel, referenceWindows } from './referenceModel.ts';

const { values: flags } = parseArgs({ options: { backend: { type: 'string', default: 'tensorflow' }, model: { type: 'string' }, batch: { type: 'string', default: '256' }, top: { type: 'string', default: '12' } } });
setLogLevel('warn');
await initBackend(flags.backend as BackendName, createLogger('bench'));
const model = flags.model ? await loadCheckpoint(flags.model) : referenceModel();
const { manifest, denoiser: net, diffusion } = model;
const L = manifest.windowLength;

/** Mean wall ms of fn over 5 calls after 3 warm-ups, then one profiled call's kernel times by kernel name. */
async function report(title: string, fn: () => void): Promise<void> {
  for (let i = 0; i < 3; i++) fn();
  const start = performance.now();
  for (let i = 0; i < 5; i++) fn();
  const wall = (performance.now() - start) / 5;
  const info = await tf.profile(fn);
  const byName = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
    byName.set(k.name, { ms: e.ms + ms, calls: e.calls + 1 });
    total += ms;
  }
  console.log(`${title}: ${wall.toFixed(1)} ms unprofiled; ${info.kernels.length} kernels, ${total.toFixed(1)} ms of kernel time`);
  for (const [name, e] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(flags.top))) {
    console.log(`  ${name.padEnd(20)}${e.ms.toFixed(1).padStart(8)} ms${((100 * e.ms) / total).toFixed(1).padStart(6)} %${String(e.calls).padStart(6)} calls`);
  }
}

const B = Number(flags.batch);
const scoring = referenceWindows(B, L, 1, 1);
net.convImpl = 'conv1d';
await report(`${tf.getBackend()} scoring, ${B} windows, conv1d`, () => void scoreWindows(model, scoring.windows, B, { timestamps: scoring.timestamps }));

const cfg = manifest.training;
const objective = trainingObjective(cfg, manifest.imputation);
const optimizer = new FlatAdam(net.trainableVariables(), cfg.lr);
const rng = seededRng(1);
const batch = referenceWindows(cfg.batchSize, L, 1, 2);
const x0 = tf.tensor3d(batch.windows, [cfg.batchSize, L, 1]); // [B, L, 1]
const cal = manifest.imputation?.calendar ? tf.tensor3d(calendarFeatures(batch.timestamps), [cfg.batchSize, L, CALENDAR_FEATURES]) : undefined; // [B, L, 4]
await report(`${tf.getBackend()} training step, batch ${cfg.batchSize}, conv1d (EMA update not included)`, () => {
  tf.tidy(() => optimizer.minimize(() => objective(net, diffusion, x0, { rng }, cal)).dataSync());
});
tf.dispose([x0, ...(cal ? [cal] : [])]);
optimizer.dispose();
model.dispose();
