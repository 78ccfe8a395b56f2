/**
 * Write what the PyTorch reference needs to prove it computes what TF.js computes: the weights of
 * the reference model (referenceModel.ts, or a checkpoint), fixed inputs, and the TF.js outputs for
 * them. `bench/reference/check.py` loads the file, runs the same inputs through torch and fails
 * when the outputs differ by more than its tolerance.
 *
 *   npx tsx bench/reference/exportWeights.ts --out .cache/torch-ref/reference.json [--model <checkpoint>] [--backend wasm]
 *
 * The file (JSON, every array as `{ shape, data }`, row-major, TF.js layouts):
 *   manifest    the parts of the model manifest the reference reads (denoiser args, schedule, imputation,
 *               the trainer's lr, batch size, EMA decay and mask settings)
 *   nets        per net: args, weights (name -> array, conv kernels [K, Cin, Cout], dense [in, out]),
 *               and one denoiser call: xt [B, L, C], t [B], cond [B, L, condChannels] -> eps [B, L, C].
 *               nets[0] is the model's; nets[1] the same architecture with causal padding.
 *   scoring     z [b, L, C] (scaled windows), timestamps [b, L], noise [K, 1, L, C] (the model's
 *               scoring noise) -> nll, mean, zBar, dispersion, evidence [b, C] (imputationScorer.ts)
 *   training    x0, mask [B, L, C], t [B], noise [B, L, C], calendar [B, L, 4] -> loss and the
 *               gradient of every weight (imputation.ts imputationLoss)
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, setLogLevel } from '../../src/log.ts';
import { initBackend, type BackendName } from '../../src/model/backend.ts';
import { calendarFeatures, CALENDAR_FEATURES } from '../../src/model/calendar.ts';
import { loadCheckpoint, type TrainedModel } from '../../src/model/checkpoint.ts';
import { Denoiser } from '../../src/model/denoiser.ts';
import { seededRng } from '../../src/model/diffusion.ts';
import { imputationLoss } from '../../src/model/imputation.ts';
import { imputeChunk, profileResiduals } from '../../src/model/imputationScorer.ts';
import { sampleMasks } from '../../src/model/trainingObjective.ts';
import { scoringNoise } from '../../src/model/windowScorer.ts';
import { referenceModel, referenceWindows } from './referenceModel.ts';

/** A row-major array and its shape: how every tensor is written. */
export interface ArrayRecord {
  shape: number[];
  data: number[];
}

export const record = (data: ArrayLike<number>, shape: number[]): ArrayRecord => {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) throw new Error(`export: shape [${shape}] holds ${size} values, got ${data.length}`);
  return { shape, data: Array.from(data) };
};

const fromTensor = (t: tf.Tensor): ArrayRecord => record(t.dataSync(), t.shape);

/** tf.tidy for a function that returns plain data: every tensor it makes is freed. */
function scoped<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}

/** The weights of a net by TF.js name, in TF.js layout. */
export function exportWeights(net: Denoiser): Record<string, ArrayRecord> {
  return Object.fromEntries(Object.entries(net.getWeights()).map(([name, v]) => [name, fromTensor(v)]));
}

/** One denoiser call on seeded inputs: full windows, one random timestep per window. */
function denoiserCall(net: Denoiser, B: number, L: number, seed: number): Record<string, ArrayRecord> {
  const { channels: C, condChannels } = net.args;
  return scoped(() => {
    const xt = tf.randomNormal([B, L, C], 0, 1, 'float32', seed) as tf.Tensor3D; // [B, L, C]
    const t = tf.tensor1d(Array.from({ length: B }, (_, i) => (i * 37 + 5) % 100), 'int32'); // [B]
    const cond = condChannels ? (tf.randomNormal([B, L, condChannels], 0, 1, 'float32', seed + 1) as tf.Tensor3D) : undefined; // [B, L, condChannels]
    const eps = net.apply(xt, t, cond); // [B, L, C]
    return { xt: fromTensor(xt), t: fromTensor(t), ...(cond ? { cond: fromTensor(cond) } : {}), eps: fromTensor(eps) };
  });
}

function netRecord(net: Denoiser, L: number, seed: number) {
  return { args: net.getConfig(), weights: exportWeights(net), call: denoiserCall(net, 8, L, seed) };
}

/** The scoring procedure on b windows with the model's own scoring noise: the TF.js statistics the reference must reproduce. */
function scoringRecord(model: TrainedModel, b: number) {
  const imp = model.manifest.imputation!;
  const { windowLength: L, channels } = model.manifest;
  const C = channels.length;
  const { windows: z, timestamps } = referenceWindows(b, L, C, 11);
  const noise = scoringNoise(model); // [K, 1, L, C]
  const input = { z, timestamps, b, noise };
  // The context test alone: without the profile test, the evidence of a model without stillness statistics is the NLL.
  const context = imputeChunk(model, { ...imp, profileTest: false, stillness: undefined }, input);
  const full = imputeChunk(model, imp, input);
  const profile = imp.profileTest ? profileResiduals(model, imp, input) : undefined;
  // The evidence is max(NLL, ½ z̄²) only without the calibrations training adds; with them the reference checks the statistics alone.
  const plain = !imp.profile && !imp.stillness && !imp.channelCalibration;
  return {
    z: record(z, [b, L, C]), timestamps: record(timestamps, [b, L]), noise: record(noise, [imp.draws, 1, L, C]),
    nll: record(context.evidence, [b, C]), mean: record(full.mean, [b, C]),
    ...(profile ? { zBar: record(profile.zBar, [b, C]) } : {}),
    ...(profile?.dispersion ? { dispersion: record(profile.dispersion, [b, C]) } : {}),
    ...(plain ? { evidence: record(full.evidence, [b, C]) } : {}),
  };
}

/** One training loss and its gradients on fixed draws (a batch of the trainer's masks). */
function trainingRecord(model: TrainedModel, B: number) {
  const { windowLength: L, channels } = model.manifest;
  const C = channels.length;
  const cfg = model.manifest.training;
  const imp = model.manifest.imputation!;
  const { windows, timestamps } = referenceWindows(B, L, C, 13);
  const mask = sampleMasks(B, L, { targets: imp.targets, imputeLength: cfg.imputeLength, fullMaskRate: cfg.fullMaskRate }, seededRng(5));
  const cal = imp.calendar ? calendarFeatures(timestamps) : undefined; // [B·L, 4]
  return scoped(() => {
    const x0 = tf.tensor3d(windows, [B, L, C]);
    const m = tf.tensor3d(mask, [B, L, C]);
    const t = tf.tensor1d(Array.from({ length: B }, (_, i) => (i * 53 + 3) % model.diffusion.schedule.T), 'int32');
    const noise = tf.randomNormal([B, L, C], 0, 1, 'float32', 17) as tf.Tensor3D;
    const calendar = cal ? tf.tensor3d(cal, [B, L, CALENDAR_FEATURES]) : undefined;
    const vars = model.denoiser.getWeights() as Record<string, tf.Variable>;
    const { value, grads } = tf.variableGrads(() => imputationLoss(model.diffusion, model.denoiser, x0, m, { t, noise, calendar }), Object.values(vars));
    const byName = Object.fromEntries(Object.entries(vars).map(([name, v]) => [name, fromTensor(grads[v.name])]));
    return {
      x0: fromTensor(x0), mask: fromTensor(m), t: fromTensor(t), noise: fromTensor(noise), ...(calendar ? { calendar: fromTensor(calendar) } : {}),
      loss: value.dataSync()[0], grads: byName,
    };
  });
}

/** Everything check.py reads, computed on the current backend. */
export function referenceRecord(model: TrainedModel) {
  const { manifest } = model;
  if (!manifest.imputation) throw new Error('export: the reference reproduces the imputation score; this model scores by reconstruction');
  if (manifest.imputation.reads) throw new Error('export: the reference does not reproduce a net that reads only some channels (imputation.reads)');
  const causal = new Denoiser({ ...manifest.denoiser, padding: 'causal', seed: 5 });
  try {
    return {
      backend: tf.getBackend(),
      manifest: {
        denoiser: manifest.denoiser, schedule: manifest.schedule, imputation: manifest.imputation, windowLength: manifest.windowLength, channels: manifest.channels,
        training: (({ lr, batchSize, emaDecay, imputeLength, fullMaskRate }) => ({ lr, batchSize, emaDecay, imputeLength, fullMaskRate }))(manifest.training),
      },
      nets: [netRecord(model.denoiser, manifest.windowLength, 21), netRecord(causal, manifest.windowLength, 23)],
      scoring: scoringRecord(model, 16),
      training: trainingRecord(model, 8),
    };
  } finally {
    causal.dispose();
  }
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({ options: { out: { type: 'string' }, model: { type: 'string' }, backend: { type: 'string', default: 'wasm' } } });
  if (!flags.out) throw new Error('exportWeights: --out <file.json> is required');
  setLogLevel('warn');
  await initBackend(flags.backend as BackendName, createLogger('bench'));
  const model = flags.model ? await loadCheckpoint(flags.model) : referenceModel();
  try {
    await mkdir(path.dirname(flags.out), { recursive: true });
    await writeFile(flags.out, JSON.stringify(referenceRecord(model)));
    process.stderr.write(`wrote ${flags.out} (${tf.getBackend()})\n`);
  } finally {
    model.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
