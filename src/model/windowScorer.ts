/**
 * The one scoring code path: training validation, `diffwatch score` and the streaming service
 * all call `scoreWindows`, so a threshold picked from validation quantiles means the same
 * thing everywhere.
 *
 *   z      = robust-normalised window (per-window mean removed when the model was trained so),
 *            with the model's scaler or, when given, the entity's own (`normalization`)
 *   x̂      = reconstruct(z): noise to t0 with K draws, S DDIM steps back, mean of the draws
 *   e[i,c] = (x̂[i,c] - z[i,c])²                          squared error in scaled units
 *   point score[i]     = mean over channels of e[i, ·]
 *   window score       = point score of the newest point (i = L-1)
 *   contribution[c]    = e[L-1, c] / Σ_c e[L-1, c]
 *
 * Why the mean over channels: its null distribution does not drift with C the way the max of C
 * errors does, so validation quantiles transfer between models with different channel counts;
 * the contributions still point at the channel that moved. Why the newest point: the streaming
 * score is causal (a window is scored when its last point arrives), and the contributions
 * explain that same number rather than the whole window.
 *
 * The K draws use the same noise for every window (common random numbers, drawn once per
 * model from `scoreSeed`), so a window's score does not depend on its batch mates or on the
 * batch size, and streaming and offline scores agree.
 *
 * Example:
 *   const { windowScores } = scoreWindows(model, windows, windows.length / (L * C));
 */
import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../errors.ts';
import type { ImputationScoring, TrainedModel } from './checkpoint.ts';
import { combineEvidence, type CombinedScore } from './channelCalibration.ts';
import { gaussians } from '../random.ts';
import { seededRng } from './diffusion.ts';
import { imputeChunk, type ChunkInput } from './imputationScorer.ts';
import { denormalize, normalize, type RobustScaler } from './normalization.ts';
import { centreForModel } from './windows.ts';
import { broadcastAxis1 } from './repeatBatch.ts';

export interface ScoreWindowsOptions {
  /** Also return the reconstruction, in raw units. Default false. */
  reconstruction?: boolean;
  /** Windows per network call; bounds memory at K·batch·L·width floats per activation. Default 256. */
  batchSize?: number;
  /**
   * Scale the windows with these statistics instead of the model's (`manifest.normalization`):
   * one shared network scoring entities that each have their own level and spread. Per-window
   * centering still follows the manifest, since the network was trained with or without it.
   */
  normalization?: ScalerStats;
  /** Point timestamps `[B, L]`, epoch ms: required by a model that takes calendar features, ignored otherwise. */
  timestamps?: Float64Array;
}

/** The part of a `RobustScaler` scoring reads: plain arrays, so it survives `postMessage`. */
export type ScalerStats = Pick<RobustScaler, 'center' | 'scale'>;

export interface WindowScores {
  /** `[B, L]` */
  pointScores: Float32Array;
  /** `[B, C]`, each row sums to 1 (or is all 0 when the newest point is reconstructed exactly). */
  channelContributions: Float32Array;
  /** `[B]` */
  windowScores: Float32Array;
  /** `[B, L, C]`, raw units; only with `reconstruction: true`. */
  reconstruction?: Float32Array;
}

/** Standard normal draws from a seed (Box-Muller over mulberry32): the same on every backend. */
const normalDraws = (n: number, seed: number): Float32Array => Float32Array.from(gaussians(seededRng(seed), n));

const noiseCache = new WeakMap<object, Float32Array>();

/** The scoring noise of a model, `[K, 1, L, C]`, drawn once (K of its scoring mode). */
export function scoringNoise(model: TrainedModel): Float32Array {
  let noise = noiseCache.get(model.manifest);
  if (!noise) {
    const { windowLength, channels, scoreSeed } = model.manifest;
    const draws = model.manifest.imputation?.draws ?? model.manifest.draws;
    noise = normalDraws(draws * windowLength * channels.length, scoreSeed);
    noiseCache.set(model.manifest, noise);
  }
  return noise;
}

/** Score one chunk of `b` normalised windows `z` `[b, L, C]`; returns squared errors and (optionally) the reconstruction, scaled units. */
function reconstructChunk(model: TrainedModel, z: Float32Array, b: number, withRecon: boolean): { sqError: Float32Array; recon?: Float32Array } {
  const { t0, steps, draws, windowLength: L, channels } = model.manifest;
  const C = channels.length;
  const noise = scoringNoise(model);
  return tf.tidy(() => {
    const x0 = tf.tensor3d(z, [b, L, C]); // [b, L, C]
    const eps = broadcastAxis1(tf.tensor4d(noise, [draws, 1, L, C]), b); // [K, b, L, C]
    const r = model.diffusion.reconstruct(model.denoiser, x0, { t0, steps, draws, noise: eps });
    const sqError = r.sqError.dataSync() as Float32Array; // [b, L, C]
    return { sqError, recon: withRecon ? (r.reconstruction.dataSync() as Float32Array) : undefined };
  });
}

/** Statistics given in place of the model's: one finite centre and one positive, finite scale per model channel. */
function checkScaler(stats: ScalerStats, channels: readonly string[]): RobustScaler {
  const C = channels.length;
  if (stats.center?.length !== C || stats.scale?.length !== C) {
    throw new ModelError('MODEL_MISMATCH', `scoreWindows: normalization needs one center and one scale per model channel [${channels.join(', ')}], got ${stats.center?.length} and ${stats.scale?.length}`, { field: 'normalization', expected: C });
  }
  const bad = channels.findIndex((_, c) => !Number.isFinite(stats.center[c]) || !(stats.scale[c] > 0 && Number.isFinite(stats.scale[c])));
  if (bad >= 0) {
    throw new ModelError('MODEL_INVALID', `scoreWindows: normalization of channel ${channels[bad]} has center ${stats.center[bad]} and scale ${stats.scale[bad]}; need a finite center and a finite scale > 0`, { field: `normalization.${channels[bad]}` });
  }
  // `floored` only describes how a scaler was fitted; scaling reads center and scale alone.
  return { kind: 'robust', center: [...stats.center], scale: [...stats.scale], floored: channels.map(() => false) };
}

/**
 * Score B windows `[B, L, C]` (row-major, raw units, channels in the model's order).
 * Runs the network in chunks of `batchSize`; every tensor is freed before it returns.
 */
export function scoreWindows(model: TrainedModel, windows: Float32Array, B: number, opts: ScoreWindowsOptions = {}): WindowScores {
  const { windowLength: L, channels } = model.manifest;
  const C = channels.length;
  const span = L * C;
  if (!Number.isInteger(B) || B < 0 || windows.length !== B * span) {
    throw new ModelError('MODEL_MISMATCH', `scoreWindows: expected ${B} windows of [${L}, ${C}] (${B * span} values), got ${windows.length} values`, { expected: B * span, actual: windows.length });
  }
  const scaler = opts.normalization ? checkScaler(opts.normalization, channels) : model.manifest.normalization;
  const chunk = Math.max(1, opts.batchSize ?? 256);
  const pointScores = new Float32Array(B * L);
  const channelContributions = new Float32Array(B * C);
  const windowScores = new Float32Array(B);
  const reconstruction = opts.reconstruction ? new Float32Array(B * span) : undefined;

  for (let start = 0; start < B; start += chunk) {
    const b = Math.min(chunk, B - start);
    const raw = windows.subarray(start * span, (start + b) * span); // [b, L, C]
    const z = normalize(scaler, raw); // [b, L, C]
    if (model.manifest.imputation) {
      const offsets = centreAsTrained(model, z); // [b, C]
      const timestamps = opts.timestamps?.subarray(start * L, (start + b) * L); // [b, L]
      writeImputed(model, { z, timestamps, b, noise: scoringNoise(model), offsets }, start, scaler, { pointScores, channelContributions, windowScores, reconstruction });
      continue;
    }
    const means = centreAsTrained(model, z); // [b, C]
    const { sqError, recon } = reconstructChunk(model, z, b, reconstruction !== undefined);
    for (let w = 0; w < b; w++) {
      const out = start + w;
      for (let i = 0; i < L; i++) {
        let sum = 0;
        for (let c = 0; c < C; c++) sum += sqError[(w * L + i) * C + c];
        pointScores[out * L + i] = sum / C;
      }
      const newest = (w * L + L - 1) * C;
      const total = pointScores[out * L + L - 1] * C;
      for (let c = 0; c < C; c++) channelContributions[out * C + c] = total > 0 ? sqError[newest + c] / total : 0;
      windowScores[out] = pointScores[out * L + L - 1];
    }
    if (recon && reconstruction) {
      if (means) for (let w = 0; w < b; w++) for (let i = 0; i < L; i++) for (let c = 0; c < C; c++) recon[(w * L + i) * C + c] += means[w * C + c];
      reconstruction.set(denormalize(scaler, recon), start * span);
    }
  }
  return { pointScores, channelContributions, windowScores, ...(reconstruction ? { reconstruction } : {}) };
}

/**
 * A model's scaled windows `[b, L, C]` as its net was trained on them, in place (centreForModel):
 * with `windowCentering` every channel, or an imputation model's targets with its commands at
 * their levels; else an imputation model's trending targets (`imputation.centred`). Returns the
 * means taken off `[b, C]` (z + mean is the window as it arrived), or undefined without centering.
 * Scoring and the held-out calibrations both feed windows through it.
 */
export function centreAsTrained(model: TrainedModel, z: Float32Array): Float32Array | undefined {
  const { windowLength: L, channels, normalization, imputation } = model.manifest;
  return centreForModel(z, L, channels.length, normalization.windowCentering, imputation);
}

/**
 * An imputation model's chunk into the outputs. Only the newest point is scored (it is the point
 * generated from the rest); earlier point scores are 0: each of them was the newest point of an
 * earlier window, and was scored there. Window score: with a channel calibration (two or more
 * target channels), each target's evidence against its own validation distribution, combined as
 * the harmonic-mean p-value, plus the conditioning channels' novelty (channelCalibration.ts);
 * without one, the newest point's evidence summed over channels and divided by the number of
 * target channels, so that adding idle command channels does not dilute it.
 * The reconstruction, when asked for, is the window with its newest point replaced by the mean of the draws.
 */
function writeImputed(model: TrainedModel, input: ChunkInput, start: number, scaler: RobustScaler, out: WindowScores): void {
  const imp = model.manifest.imputation!;
  const { windowLength: L, channels } = model.manifest;
  const C = channels.length;
  const { z, b } = input;
  const targets = imp.targets.filter(Boolean).length;
  const { evidence, mean } = imputeChunk(model, imp, input);
  for (let w = 0; w < b; w++) {
    const { score, shares } = windowEvidence(evidence.subarray(w * C, (w + 1) * C), imp, targets);
    out.windowScores[start + w] = score;
    out.pointScores[(start + w) * L + L - 1] = score;
    out.channelContributions.set(shares, (start + w) * C);
  }
  if (!out.reconstruction) return;
  const recon = Float32Array.from(z);
  for (let w = 0; w < b; w++) for (let c = 0; c < C; c++) recon[(w * L + L - 1) * C + c] = mean[w * C + c];
  const { offsets } = input;
  if (offsets) for (let k = 0; k < recon.length; k++) recon[k] += offsets[Math.floor(k / (L * C)) * C + (k % C)];
  out.reconstruction.set(denormalize(scaler, recon), start * L * C);
}

/** One window's score and channel shares from its evidence `[C]`; `targets` is the model's number of target channels. */
function windowEvidence(evidence: Float64Array, imp: ImputationScoring, targets: number): CombinedScore {
  if (imp.channelCalibration) return combineEvidence(evidence, imp.channelCalibration);
  let total = 0;
  for (const e of evidence) total += e;
  const shares = evidence.map((e) => (total > 0 ? e / total : 0));
  return { score: total / Math.max(1, targets), shares };
}
