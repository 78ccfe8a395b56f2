/**
 * The model the PyTorch comparison runs (bench/reference/README.md): the default univariate
 * imputation model of `resolveModelConfig()` (window 64, width 32, depth 4, kernel 3, calendar,
 * profile and dispersion tests, K = 4 draws × S = 2 DDIM steps), with random weights, or a
 * checkpoint written by `diffwatch train`. Also the windows both sides score and train on.
 *
 * Example:
 *   const dir = await writeReferenceModel(tmp);      // a checkpoint directory
 *   const { windows, timestamps } = referenceWindows(256, 64, 1);
 */
import * as tf from '@tensorflow/tfjs';
import { CALENDAR_FEATURES } from '../../src/model/calendar.ts';
import { MANIFEST_FORMAT, MANIFEST_FORMAT_VERSION, makeTrainedModel, saveCheckpoint, type ModelManifest, type TrainedModel } from '../../src/model/checkpoint.ts';
import { Denoiser, leftReach } from '../../src/model/denoiser.ts';
import { seededRng } from '../../src/model/diffusion.ts';
import { imputationScoring } from '../../src/model/imputationSpec.ts';
import { resolveModelConfig, type ModelConfig } from '../../src/model/modelConfig.ts';
import { resolveNoiseScheduleArgs } from '../../src/model/noiseSchedule.ts';
import type { Window } from '../../src/types.ts';

/** The defaults, as `diffwatch train` resolves them. */
export const REFERENCE_CONFIG: Readonly<ModelConfig> = resolveModelConfig();

/** 2024-01-01 00:00 UTC; one point a minute. */
const START_MS = Date.UTC(2024, 0, 1);
const STEP_MS = 60_000;

/**
 * Sines of random phase and period plus noise, in robust-scaled units, `[n, L, C]`, and their
 * timestamps `[n, L]` (epoch ms, one point a minute, window w starting w·17 minutes later).
 */
export function referenceWindows(n: number, L: number, C: number, seed = 7): { windows: Float32Array; timestamps: Float64Array } {
  const rng = seededRng(seed);
  const windows = new Float32Array(n * L * C);
  const timestamps = new Float64Array(n * L);
  for (let w = 0; w < n; w++) {
    for (let c = 0; c < C; c++) {
      const [phase, period] = [rng() * 2 * Math.PI, 16 + 16 * rng()];
      for (let i = 0; i < L; i++) windows[(w * L + i) * C + c] = Math.sin(phase + (2 * Math.PI * i) / period) + 0.1 * (rng() - 0.5);
    }
    for (let i = 0; i < L; i++) timestamps[w * L + i] = START_MS + (w * 17 + i) * STEP_MS;
  }
  return { windows, timestamps };
}

/** The same windows as the service hands them to a scorer. */
export function asStreamWindows(windows: Float32Array, timestamps: Float64Array, n: number, L: number): Window[] {
  return Array.from({ length: n }, (_, w) => ({
    entityId: `m${w}`, channels: ['value'], length: L, startTime: timestamps[w * L], endTime: timestamps[w * L + L - 1],
    timestamps: timestamps.slice(w * L, (w + 1) * L), values: windows.slice(w * L, (w + 1) * L),
    hasGap: false, sources: [], releases: [],
  }));
}

/**
 * The default univariate imputation model with random weights. A fresh net's output layer is
 * 0.01 of full scale and its biases are 0, so that ε̂ ≈ 0 whatever the input; the output kernel
 * and the biases are redrawn at full scale (seeded) so that every layer shapes the outputs that
 * are compared.
 */
export function referenceModel(cfg: Readonly<ModelConfig> = REFERENCE_CONFIG): TrainedModel {
  const L = cfg.windowLength;
  const { windows } = referenceWindows(64, L, 1, 3);
  const reach = leftReach({ kernelSize: cfg.kernelSize, dilations: [1, 2, 4, 8].slice(0, cfg.depth), padding: 'same' }) + 1;
  const imputation = imputationScoring(windows, 1, cfg, reach);
  const condChannels = 2 + (imputation.calendar ? CALENDAR_FEATURES : 0);
  const net = new Denoiser({ channels: 1, condChannels, width: cfg.width, depth: cfg.depth, kernelSize: cfg.kernelSize, embedDim: cfg.embedDim, seed: cfg.seed });
  const redrawn = tf.tidy(() =>
    Object.fromEntries(Object.entries(net.getWeights()).map(([name, v], i) => {
      if (name === 'outProj/kernel') return [name, tf.randomNormal(v.shape, 0, Math.sqrt(1 / cfg.width), 'float32', 100 + i)];
      if (name.endsWith('/bias')) return [name, tf.randomNormal(v.shape, 0, 0.1, 'float32', 100 + i)];
      return [name, tf.clone(v)];
    })),
  );
  net.setWeights(redrawn);
  tf.dispose(redrawn);
  const manifest: ModelManifest = {
    format: MANIFEST_FORMAT, formatVersion: MANIFEST_FORMAT_VERSION, version: '',
    schedule: resolveNoiseScheduleArgs({ kind: cfg.scheduleKind, T: cfg.T }), denoiser: net.getConfig(),
    t0: cfg.t0, steps: cfg.steps, draws: cfg.draws, scoreSeed: cfg.seed, windowLength: L, channels: ['value'],
    normalization: { kind: 'robust', center: [0], scale: [1], floored: [false], windowCentering: false },
    trainingData: { firstTimestamp: START_MS, lastTimestamp: START_MS, rows: 0, trainRows: 0, trainWindows: 0, validationWindows: 0 },
    seed: cfg.seed, training: { ...cfg }, losses: { train: [], validation: [], bestEpoch: 0, bestValidation: 0 },
    validationScores: { windows: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 },
    imputation,
  };
  return makeTrainedModel(manifest, net);
}

/** Write the reference model as a checkpoint into `dir` (what the scoring workers load). */
export async function writeReferenceModel(dir: string): Promise<void> {
  const model = referenceModel();
  try {
    await saveCheckpoint(dir, model);
  } finally {
    model.dispose();
  }
}
