/**
 * A trained model on disk: a directory with
 *
 *   weights.bin    every weight, float32, concatenated in the order of model.json
 *   model.json     the TF.js weights manifest (name, shape, dtype, byteOffset, byteLength of each)
 *   manifest.json  everything else needed to score: schedule and denoiser args, t0/S/K, window
 *                  length, channels in order, normalisation stats, training data range, seed,
 *                  training config, losses, validation score quantiles, `version`, and
 *                  `parent` (the version it was fine-tuned from) when it was fine-tuned
 *
 * `version` is a content hash: sha256 over the weights bytes followed by the canonical JSON of
 * the manifest without `version` (keys sorted), first 16 hex digits. Saving the same model twice
 * gives the same version; any change to a weight or a setting gives another.
 *
 * Example:
 *   await saveCheckpoint('models/m1', model);
 *   const m = await loadCheckpoint('models/m1', { channels: ['temp'], windowLength: 64 });
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelError } from '../errors.ts';
import { CALENDAR_FEATURES } from './calendar.ts';
import { Denoiser, type DenoiserArgs } from './denoiser.ts';
import type { PartnerTest } from './partnerTest.ts';
import type { ProfileStats } from './profileCalibration.ts';
import type { StillnessStats } from './stillness.ts';
import type { TrendLevel } from './trendLevel.ts';
import type { ChannelCalibration } from './channelCalibration.ts';
import { GaussianDiffusion } from './diffusion.ts';
import { resolveModelConfig, type ModelConfig } from './modelConfig.ts';
import { makeNoiseSchedule, type ResolvedNoiseScheduleArgs } from './noiseSchedule.ts';
import type { RobustScaler } from './normalization.ts';

export const MANIFEST_FORMAT = 'diffwatch-model';
export const MANIFEST_FORMAT_VERSION = 1;
export const FILES = { weights: 'weights.bin', weightsManifest: 'model.json', manifest: 'manifest.json' } as const;

/** Quantiles of the window scores of the validation windows: what thresholds are chosen from. */
export interface ScoreQuantiles {
  windows: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * How an imputation model scores (imputation.ts); absent for a reconstruction model, whose
 * `t0`, `steps` and `draws` say how it scores.
 */
export interface ImputationScoring {
  /** DDIM steps from T-1 and draws K of the newest point. */
  steps: number;
  draws: number;
  /** Smallest predictive std, robust-scaled units. */
  sigmaFloor: number;
  /** Per channel: generated and scored (analogue), or conditioning only (binary, constant). */
  targets: boolean[];
  /**
   * Per channel, whether the net reads it: false for a conditioning channel whose changes showed no
   * relation to any target's in training (conditioningRelation.ts). The denoiser is built for the
   * channels read and sees no other (imputation.ts). Absent: every channel is read.
   */
  reads?: boolean[];
  /** Per conditioning channel, the values seen in training (raw units): any other value is novel. null for targets. */
  levels: (number[] | null)[];
  /** The model takes calendar features (calendar.ts): scoring needs each point's timestamp. */
  calendar?: boolean;
  /** Also score the newest point against the whole-window imputation (see ModelConfig.profileTest). */
  profileTest?: boolean;
  /** Also score the scatter of the newest points around the profile draws (ModelConfig.dispersionTest). */
  dispersionTest?: boolean;
  /** Newest points whose standardised profile residuals are averaged (ModelConfig.profileSpan); absent: 1. */
  profileSpan?: number;
  /**
   * Per channel, whether the profile and dispersion tests count (ModelConfig.conditionedProfileOnly,
   * profileScope.ts): false for the channels of a net that reads no command, and either the
   * calendar over a fit shorter than a week, or nothing in a model of several groups. Absent:
   * every target channel.
   */
  profileChannels?: boolean[];
  /**
   * Per channel, whether the dispersion test alone counts, centred on the stretch's own mean
   * residual (ModelConfig.shortFitDispersion, profileScope.ts): the channels of a net read by the
   * calendar alone over a fit shorter than a week. Absent: none.
   */
  centredDispersionChannels?: boolean[];
  /**
   * Per channel, whether its windows are centred before the net sees them: the targets whose level
   * trends over the rows given to training (ModelConfig.trendCentering, levelTrend.ts). Absent: none, or
   * every target where the manifest's `normalization.windowCentering` says so.
   */
  centred?: boolean[];
  /**
   * The level test of the `centred` channels (ModelConfig.trendLevelTest, trendLevel.ts): their
   * trend and daily profile fitted on the training rows, refitted by every fit. Absent: no test.
   */
  trendLevel?: TrendLevel;
  /** The profile test's calibration on the validation windows (profileCalibration.ts); set by training when `profileTest`. */
  profile?: ProfileStats;
  /** The too-still test (stillness.ts), fitted on the training windows; absent in models from before it. */
  stillness?: StillnessStats;
  /**
   * The context test's NLL against its own distribution on the validation windows, per target
   * channel (ModelConfig.contextCalibration; the knots and tail of channelCalibration.ts), so that
   * it meets the calibrated tests in their units. Absent: the raw NLL (models from before it).
   */
  contextCalibration?: ChannelCalibration;
  /**
   * The context test's pooled predictive variance (ModelConfig.contextVariancePrior): τ² per
   * channel, the mean over the validation windows of the K draws' variance at the newest point,
   * scaled units (null for non-targets), and its weight ν in draws. Absent: the draws' own variance.
   */
  contextVariance?: { pooled: (number | null)[]; weight: number };
  /**
   * Each target channel's evidence against its own validation distribution, and their combination
   * into the window score (channelCalibration.ts); set by training for two or more target channels,
   * absent otherwise and in models from before it (their window score is the mean evidence).
   */
  channelCalibration?: ChannelCalibration;
  /**
   * Each analogue channel against the other channels of its group at the same moment
   * (ModelConfig.partnerTest, partnerTest.ts); set by training where the partners explain a channel.
   * Absent: no channel has such partners, or a model from before the test.
   */
  partners?: PartnerTest;
}

export interface ModelManifest {
  format: typeof MANIFEST_FORMAT;
  formatVersion: number;
  /** Content hash, 16 hex digits (see the file comment). */
  version: string;
  schedule: ResolvedNoiseScheduleArgs;
  denoiser: DenoiserArgs;
  /** Scoring: noise level, DDIM steps S and draws K. */
  t0: number;
  steps: number;
  draws: number;
  /** Seed of the scoring noise: the same window always gets the same score. */
  scoreSeed: number;
  windowLength: number;
  /** Channel names in the order of the model's input channels. */
  channels: string[];
  normalization: RobustScaler & { windowCentering: boolean };
  trainingData: { firstTimestamp: number; lastTimestamp: number; rows: number; trainRows: number; trainWindows: number; validationWindows: number };
  seed: number;
  training: ModelConfig;
  losses: { train: number[]; validation: number[]; bestEpoch: number; bestValidation: number };
  validationScores: ScoreQuantiles;
  /** Present when the model scores by imputation (`training.scoring: 'imputation'`). */
  imputation?: ImputationScoring;
  /**
   * Version of the model this one was fine-tuned from (`fineTune`); absent for a model trained
   * from scratch and in checkpoints written before fine-tuning existed.
   */
  parent?: string;
}

/** A model ready to score: its manifest and its live network. `dispose()` frees the weights. */
export interface TrainedModel {
  readonly manifest: ModelManifest;
  readonly denoiser: Denoiser;
  readonly diffusion: GaussianDiffusion;
  dispose(): void;
}

export function makeTrainedModel(manifest: ModelManifest, denoiser: Denoiser): TrainedModel {
  const diffusion = new GaussianDiffusion(makeNoiseSchedule(manifest.schedule));
  return { manifest, denoiser, diffusion, dispose: () => denoiser.dispose() };
}

/** JSON with object keys sorted at every level: one text per value, whatever the insertion order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

interface EncodedWeights {
  data: Uint8Array;
  specs: (tf.io.WeightsManifestEntry & { byteOffset: number; byteLength: number })[];
}

/** The weights sorted by name, as one buffer plus the specs with their byte ranges. */
async function encodeModelWeights(denoiser: Denoiser): Promise<EncodedWeights> {
  const named = Object.entries(denoiser.getWeights())
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, tensor]) => ({ name, tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  let offset = 0;
  const withOffsets = specs.map((s) => {
    const byteLength = s.shape.reduce((n, d) => n * d, 1) * 4; // float32 only (checked on load)
    const entry = { ...s, byteOffset: offset, byteLength };
    offset += byteLength;
    return entry;
  });
  return { data: new Uint8Array(data), specs: withOffsets };
}

function hashVersion(weights: Uint8Array, manifest: ModelManifest): string {
  const { version: _omit, ...rest } = manifest;
  return createHash('sha256').update(weights).update(canonicalJson(rest)).digest('hex').slice(0, 16);
}

/** The content hash of a model as it would be saved now. */
export async function modelVersion(model: Pick<TrainedModel, 'manifest' | 'denoiser'>): Promise<string> {
  return hashVersion((await encodeModelWeights(model.denoiser)).data, model.manifest);
}

/** Write the three files (creating `dir`); the manifest's `version` is recomputed from what is written. Returns it. */
export async function saveCheckpoint(dir: string, model: TrainedModel): Promise<string> {
  const { data, specs } = await encodeModelWeights(model.denoiser);
  const version = hashVersion(data, model.manifest);
  const manifest = { ...model.manifest, version };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, FILES.weights), data);
  await writeFile(join(dir, FILES.weightsManifest), JSON.stringify({ format: 'tfjs-weights', weightsManifest: [{ paths: [FILES.weights], weights: specs }] }, null, 2) + '\n');
  // The manifest goes last: a directory with a manifest has its weights.
  await writeFile(join(dir, FILES.manifest), JSON.stringify(manifest, null, 2) + '\n');
  return version;
}

async function readOrMissing(dir: string, file: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ModelError('MODEL_NOT_FOUND', `no model at ${dir}: ${file} is missing; train one with \`diffwatch train --out ${dir}\``, { path: join(dir, file) });
    throw new ModelError('MODEL_INVALID', `cannot read ${join(dir, file)}: ${(e as Error).message}`, { path: join(dir, file) });
  }
}

function parseJson(buf: Buffer, path: string): Record<string, unknown> {
  try {
    const v = JSON.parse(buf.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v;
  } catch (e) {
    throw new ModelError('MODEL_INVALID', `${path} is not valid JSON: ${(e as Error).message}`, { path });
  }
  throw new ModelError('MODEL_INVALID', `${path} must hold a JSON object`, { path });
}

function checkManifest(m: Record<string, unknown>, path: string): ModelManifest {
  const bad = (field: string, why: string) => new ModelError('MODEL_INVALID', `${path}: ${field} ${why}`, { path, field });
  if (m.format !== MANIFEST_FORMAT) throw bad('format', `must be "${MANIFEST_FORMAT}", got ${JSON.stringify(m.format)}`);
  if (m.formatVersion !== MANIFEST_FORMAT_VERSION) throw bad('formatVersion', `${JSON.stringify(m.formatVersion)} is not supported (this build reads ${MANIFEST_FORMAT_VERSION})`);
  for (const key of ['version', 'schedule', 'denoiser', 'channels', 'normalization', 'training', 'windowLength', 't0', 'steps', 'draws', 'scoreSeed'] as const) {
    if (m[key] === undefined) throw bad(key, 'is missing');
  }
  if (m.parent !== undefined && (typeof m.parent !== 'string' || !/^[0-9a-f]{16}$/.test(m.parent))) throw bad('parent', `must be a 16-hex-digit model version, got ${JSON.stringify(m.parent)}`);
  const manifest = m as unknown as ModelManifest;
  if (!Array.isArray(manifest.channels)) throw bad('channels', 'must list the channel names');
  // The net may read fewer channels than the windows have (imputation.reads).
  const reads = manifest.imputation?.reads;
  const read = Array.isArray(reads) ? reads.filter(Boolean).length : manifest.channels.length;
  if (read !== manifest.denoiser.channels) throw bad('channels', `${manifest.channels.length} channels, of which the net reads ${read}, with a denoiser built for ${manifest.denoiser.channels}`);
  const n = manifest.normalization;
  if (!Array.isArray(n.center) || n.center.length !== manifest.channels.length || n.scale.length !== manifest.channels.length) throw bad('normalization', 'must have one center and scale per channel');
  const imp = manifest.imputation;
  if (imp !== undefined) {
    const C = manifest.channels.length;
    if (!Array.isArray(imp.targets) || imp.targets.length !== C || !Array.isArray(imp.levels) || imp.levels.length !== C) throw bad('imputation', `must have one target flag and one level list per channel (${C})`);
    if (imp.reads !== undefined && (!Array.isArray(imp.reads) || imp.reads.length !== C || imp.targets.some((t, c) => t && !imp.reads![c]))) throw bad('imputation', `reads must have one flag per channel (${C}), true for every target`);
    const cond = 2 * read + (imp.calendar ? CALENDAR_FEATURES : 0);
    if (manifest.denoiser.condChannels !== cond) throw bad('imputation', `needs a denoiser with ${cond} conditioning channels, got ${manifest.denoiser.condChannels}`);
  }
  try {
    resolveModelConfig(manifest.training);
    makeNoiseSchedule(manifest.schedule);
  } catch (e) {
    throw bad('training', `is invalid: ${(e as Error).message}`);
  }
  return manifest;
}

function checkExpected(manifest: ModelManifest, dir: string, expect: { channels?: readonly string[]; windowLength?: number }): void {
  if (expect.channels && (expect.channels.length !== manifest.channels.length || expect.channels.some((c, i) => c !== manifest.channels[i]))) {
    throw new ModelError('MODEL_MISMATCH', `model ${dir} was trained on channels [${manifest.channels.join(', ')}], the stream has [${expect.channels.join(', ')}]; retrain or set stream.channels to the model's, in order`, { expected: manifest.channels, actual: [...expect.channels] });
  }
  if (expect.windowLength !== undefined && expect.windowLength !== manifest.windowLength) {
    throw new ModelError('MODEL_MISMATCH', `model ${dir} takes windows of ${manifest.windowLength} points, the stream cuts ${expect.windowLength}; set stream.windowLength to ${manifest.windowLength} or retrain`, { expected: manifest.windowLength, actual: expect.windowLength });
  }
}

function decodeWeightFile(weights: Buffer, wm: Record<string, unknown>, path: string): tf.NamedTensorMap {
  const group = (wm.weightsManifest as { weights?: EncodedWeights['specs'] }[] | undefined)?.[0];
  const specs = group?.weights;
  if (!Array.isArray(specs)) throw new ModelError('MODEL_INVALID', `${path}: weightsManifest[0].weights is missing`, { path });
  let offset = 0;
  for (const s of specs) {
    const bytes = s.shape.reduce((n, d) => n * d, 1) * 4;
    if (s.dtype !== 'float32' || s.byteOffset !== offset || s.byteLength !== bytes) {
      throw new ModelError('MODEL_INVALID', `${path}: weight ${s.name} is not a float32 block at byte ${offset} of ${bytes} bytes`, { path, field: s.name });
    }
    offset += bytes;
  }
  if (offset !== weights.byteLength) throw new ModelError('MODEL_INVALID', `${FILES.weights} holds ${weights.byteLength} bytes, ${path} describes ${offset}`, { path });
  const ab = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  return tf.io.decodeWeights(ab, specs);
}

/**
 * Read a checkpoint back. Throws `ModelError`: MODEL_NOT_FOUND (missing directory or file),
 * MODEL_INVALID (corrupt JSON, weights or content hash), MODEL_MISMATCH (channels or window
 * length differ from `expect`).
 */
export async function loadCheckpoint(dir: string, expect: { channels?: readonly string[]; windowLength?: number } = {}): Promise<TrainedModel> {
  const manifestPath = join(dir, FILES.manifest);
  const manifest = checkManifest(parseJson(await readOrMissing(dir, FILES.manifest), manifestPath), manifestPath);
  checkExpected(manifest, dir, expect);
  const wmPath = join(dir, FILES.weightsManifest);
  const wm = parseJson(await readOrMissing(dir, FILES.weightsManifest), wmPath);
  const weights = await readOrMissing(dir, FILES.weights);
  const version = hashVersion(new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength), manifest);
  if (version !== manifest.version) {
    throw new ModelError('MODEL_INVALID', `${dir}: content hash ${version} does not match the manifest's version ${manifest.version}; the files were changed or mixed from two models`, { path: dir, expected: manifest.version, actual: version });
  }
  const decoded = decodeWeightFile(weights, wm, wmPath);
  const denoiser = new Denoiser(manifest.denoiser);
  try {
    denoiser.setWeights(decoded);
  } catch (e) {
    denoiser.dispose();
    throw new ModelError('MODEL_INVALID', `${wmPath}: ${(e as Error).message}`, { path: wmPath });
  } finally {
    tf.dispose(decoded);
  }
  return makeTrainedModel(manifest, denoiser);
}
