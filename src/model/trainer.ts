/**
 * Training the denoiser on one series `[N, C]`:
 *
 *   1. split the windows in time order: the last `validationFraction` validate, with a gap of L
 *   2. fit the robust scaler on the training rows only (no look-ahead into validation)
 *   3. epochs of shuffled mini-batches (seeded), Adam on L_simple (Ho et al. eq. 14)
 *   4. after each epoch, the validation loss at FIXED t and ε, so epochs are comparable
 *   5. early stopping with `patience`, keeping the best epoch's weights
 *   6. validation score quantiles through `scoreWindows`, the path every scorer uses
 *
 * Same seed, same backend → the same weights and loss curve (every random draw is seeded).
 *
 * Example:
 *   const model = await train({ values, channels: ['temp'], timestamps }, resolveModelConfig({ epochs: 5 }));
 *   await saveCheckpoint('models/temp', model);
 */
import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../errors.ts';
import { MANIFEST_FORMAT, MANIFEST_FORMAT_VERSION, makeTrainedModel, modelVersion, type ImputationScoring, type ModelManifest, type ScoreQuantiles, type TrainedModel } from './checkpoint.ts';
import { groupWidth } from './channelGroups.ts';
import { Denoiser, leftReach } from './denoiser.ts';
import { fitStillness } from './stillness.ts';
import { GaussianDiffusion, seededRng, type Rng } from './diffusion.ts';
import { resolveModelConfig, type ModelConfig } from './modelConfig.ts';
import { makeNoiseSchedule } from './noiseSchedule.ts';
import { fitRobustScaler, normalize, quantileSorted, type RobustScaler } from './normalization.ts';
import { CALENDAR_FEATURES, calendarFeatures, coversCalendar } from './calendar.ts';
import { imputationFit, trainingObjective } from './imputationTraining.ts';
import { clampConditioning } from './imputationSpec.ts';
import { denoisingObjective, type TrainingObjective } from './trainingObjective.ts';
import { scoreWindows } from './windowScorer.ts';
import { calibrateChannels, calibrateContext, calibrateProfile, evenSample, poolContextVariance, PROFILE_FIT_SAMPLE, withoutContextCalibration } from './heldOutCalibration.ts';
import { centredDispersionScope, fitSpansWeek, profileScope, withProfileScope } from './profileScope.ts';
import { centreForModel, gatherWindows, splitWindows, windowTimestamps, type WindowSplit } from './windows.ts';
import { WeightAverage } from './weightAverage.ts';
import { FlatAdam } from './flatAdam.ts';
import { fitPartnerTest, targetGroups, type PartnerTest } from './partnerTest.ts';
import { fitTrendLevel, type TrendLevel } from './trendLevel.ts';

export interface TrainSeries {
  /** Row-major `[N, C]`, raw units. */
  values: Float64Array;
  channels: string[];
  /** Epoch ms per row, length N. */
  timestamps: Float64Array;
}

export interface TrainProgress {
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** 1-based step within the epoch. */
  step: number;
  stepsPerEpoch: number;
  /** Mean training loss of the epoch so far. */
  loss: number;
  /** Present once per epoch, on the event after its last step. */
  valLoss?: number;
  /** ms left if every remaining epoch runs (early stopping can only shorten it). */
  etaMs: number;
}

export interface TrainHooks {
  onProgress?(p: TrainProgress): void;
}

/** Offsets added to the seed so the shuffling, the loss noise and the validation noise are independent streams. */
const STREAM = { shuffle: 0x5f3759df, loss: 0x9e3779b9, validation: 0x7f4a7c15 } as const;

/** Fisher-Yates, in place. */
function shuffle(xs: number[], rng: Rng): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
}

/** Normalised windows `[W, L, C]`, centred per window on the channels the config and the model's channels say (centreForModel). */
function prepared(z: Float32Array, C: number, cfg: ModelConfig, starts: number[], imputation?: Pick<ImputationScoring, 'targets' | 'centred'>): Float32Array {
  const w = gatherWindows(z, C, cfg.windowLength, starts);
  centreForModel(w, cfg.windowLength, C, cfg.windowCentering, imputation);
  return w;
}

/** The fixed validation set: normalised windows `[Wv, L, C]`, one timestep each and one ε seed, all from the seed. */
export interface ValidationSet {
  x: Float32Array;
  /** Calendar features of the windows `[Wv, L, 4]`, for a model that takes them. */
  cal?: Float32Array;
  t: Int32Array;
  noiseSeed: number;
  count: number;
}

function validationSet(x: Float32Array, count: number, cfg: ModelConfig): ValidationSet {
  const rng = seededRng((cfg.seed + STREAM.validation) >>> 0);
  const t = Int32Array.from({ length: count }, () => Math.floor(rng() * cfg.T));
  const noiseSeed = Math.floor(rng() * 2 ** 31);
  return { x, t, noiseSeed, count };
}

/** A series cut for fitting: the split, the scaler, the training windows and the validation set. */
export interface PreparedSeries {
  split: WindowSplit;
  scaler: RobustScaler;
  /** Normalised training windows `[Wt, L, C]`. */
  trainX: Float32Array;
  /** Calendar features of the training windows `[Wt, L, 4]`, for a model that takes them. */
  trainCal?: Float32Array;
  val: ValidationSet;
}

/**
 * Split `series` in time order and normalise it: with `scaler` when given (a fine-tune that keeps
 * its parent's statistics), else with one fitted on the training rows only (no look-ahead).
 */
export function prepareSeries(series: TrainSeries, cfg: ModelConfig, scaler?: RobustScaler, imputation?: ImputationScoring): PreparedSeries {
  const N = checkSeries(series);
  const C = series.channels.length;
  const split = splitWindows(N, cfg.windowLength, cfg.stride, cfg.validationFraction);
  const fitted = scaler ?? fitRobustScaler(series.values.subarray(0, split.trainRows * C), C);
  const scaled = normalize(fitted, series.values); // [N, C]
  // The commands as scoring feeds them: inside their training levels (imputationSpec.ts).
  const z = imputation ? clampConditioning(scaled, N, 1, C, imputation, fitted) : scaled; // [N, C]
  const trainX = prepared(z, C, cfg, split.train, imputation); // [Wt, L, C]
  const val = validationSet(prepared(z, C, cfg, split.validation, imputation), split.validation.length, cfg);
  if (!(cfg.calendar && cfg.scoring === 'imputation')) return { split, scaler: fitted, trainX, val };
  const cal = calendarFeatures(series.timestamps); // [N, 4]
  const trainCal = gatherWindows(cal, CALENDAR_FEATURES, cfg.windowLength, split.train); // [Wt, L, 4]
  return { split, scaler: fitted, trainX, trainCal, val: { ...val, cal: gatherWindows(cal, CALENDAR_FEATURES, cfg.windowLength, split.validation) } };
}

/** Mean L_simple over the validation set at its fixed t and ε, in chunks of `chunk` windows. */
export function validationLoss(net: Denoiser, diffusion: GaussianDiffusion, v: ValidationSet, L: number, C: number, chunk: number, objective: TrainingObjective = denoisingObjective): number {
  let total = 0;
  for (let s = 0; s < v.count; s += chunk) {
    const b = Math.min(chunk, v.count - s);
    total += tf.tidy(() => {
      const x0 = tf.tensor3d(v.x.subarray(s * L * C, (s + b) * L * C), [b, L, C]); // [b, L, C]
      const t = tf.tensor1d(v.t.subarray(s, s + b), 'int32'); // [b]
      const noise = tf.randomNormal([b, L, C], 0, 1, 'float32', v.noiseSeed + s) as tf.Tensor3D; // [b, L, C]
      const cal = v.cal ? tf.tensor3d(v.cal.subarray(s * L * CALENDAR_FEATURES, (s + b) * L * CALENDAR_FEATURES), [b, L, CALENDAR_FEATURES]) : undefined; // [b, L, 4]
      return objective(net, diffusion, x0, { t, noise, maskSeed: v.noiseSeed + s }, cal).dataSync()[0] * b;
    });
  }
  return total / v.count;
}

export function scoreQuantiles(scores: Float32Array): ScoreQuantiles {
  const sorted = Float64Array.from(scores).sort();
  const q = (p: number) => quantileSorted(sorted, p);
  return { windows: sorted.length, p50: q(0.5), p90: q(0.9), p95: q(0.95), p99: q(0.99), p999: q(0.999), max: sorted[sorted.length - 1] };
}

/** Swap the last two axes, as `matMul`'s transpose flags do. */
const swapLast = (x: tf.Tensor) => tf.transpose(x, [...x.shape.keys()].map((i, _, all) => (i < all.length - 2 ? i : 2 * all.length - 3 - i)));

/**
 * The BatchMatMul gradient of tfjs-core (gradients/BatchMatMul_grad.ts) with every transposed
 * operand materialised by `tf.transpose` before a plain `matMul`. Why: the wasm backend's
 * matMul with transposeA/transposeB ran ~8x slower than transpose + matMul on this machine
 * ([4096, 96]ᵀ·[4096, 32]: 12 ms against 1.5 ms), and the backward pass of every unfolded
 * conv is two such products; a default-net training step at batch 64 went from ~490 ms to
 * ~200 ms. The values are the same products, up to float summation order.
 */
let transposeFreeRegistered = false;

export function registerTransposeFreeMatMulGradient(): void {
  if (transposeFreeRegistered) return;
  transposeFreeRegistered = true;
  const mm = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y);
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const g = dy as tf.Tensor;
      if (!transposeA && !transposeB) return { a: () => mm(g, swapLast(b)), b: () => mm(swapLast(a), g) };
      if (!transposeA && transposeB) return { a: () => mm(g, b), b: () => mm(swapLast(g), a) };
      if (transposeA && !transposeB) return { a: () => mm(b, swapLast(g)), b: () => mm(a, g) };
      return { a: () => mm(swapLast(b), swapLast(g)), b: () => mm(swapLast(g), swapLast(a)) };
    },
  });
}

const snapshot = (net: Denoiser): tf.NamedTensorMap => Object.fromEntries(Object.entries(net.getWeights()).map(([k, v]) => [k, tf.clone(v)]));
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function checkSeries(series: TrainSeries): number {
  const C = series.channels.length;
  const N = series.timestamps.length;
  if (C < 1 || series.values.length !== N * C) {
    throw new ModelError('MODEL_INVALID', `training series: ${series.values.length} values for ${N} timestamps and ${C} channels (need [N, C] row-major)`, { field: 'values' });
  }
  return N;
}

/**
 * `calendar: true` asks for the calendar where the data can teach it: the training rows must cover
 * `CALENDAR_MIN_DAYS` (calendar.ts), else the model is trained without it, and its manifest says so.
 */
function calendarRule(cfg: Readonly<ModelConfig>, timestamps: Float64Array, trainRows: number): Readonly<ModelConfig> {
  return cfg.calendar && !coversCalendar(timestamps, trainRows) ? Object.freeze({ ...cfg, calendar: false }) : cfg;
}

/** Train a model on `series`. Resolves once the best weights are restored and the validation scores computed. */
export async function train(series: TrainSeries, config: Partial<ModelConfig>, hooks: TrainHooks = {}): Promise<TrainedModel> {
  const N = checkSeries(series);
  const resolved = resolveModelConfig(config);
  const { trainRows } = splitWindows(N, resolved.windowLength, resolved.stride, resolved.validationFraction);
  const cfg = calendarRule(resolved, series.timestamps, trainRows);
  registerTransposeFreeMatMulGradient();
  const C = series.channels.length;
  const imputation = cfg.scoring === 'imputation' ? imputationFit(series, cfg) : undefined;
  const data = prepareSeries(series, cfg, imputation?.scaler, imputation?.scoring);
  // The net takes only the channels it reads (imputation.ts): targets and the commands related to them.
  const netChannels = imputation?.scoring.reads?.filter(Boolean).length ?? C;
  const condChannels = imputation ? 2 * netChannels + (cfg.calendar ? CALENDAR_FEATURES : 0) : 0;
  const groups = imputation?.groups;
  // Split into groups, each net narrower, so that the groups together cost what one net would (channelGroups.ts).
  const width = groups ? groupWidth(cfg.width, groups.length) : cfg.width;
  const net = new Denoiser({ channels: netChannels, condChannels, width, depth: cfg.depth, kernelSize: cfg.kernelSize, embedDim: cfg.embedDim, seed: cfg.seed, ...(groups ? { groups } : {}), ...(imputation?.groupCalendar ? { groupExtras: imputation.groupCalendar } : {}) });
  const diffusion = new GaussianDiffusion(makeNoiseSchedule({ kind: cfg.scheduleKind, T: cfg.T }));
  const fit = await fitLoop(net, diffusion, cfg, data, hooks, { objective: trainingObjective(cfg, imputation?.scoring) });
  return assembleModel(net, series, cfg, data, fit, { t0: cfg.t0, steps: cfg.steps, draws: cfg.draws, scoreSeed: cfg.seed, imputation: imputation?.scoring });
}

/** What a model's scoring depends on besides its weights; a fine-tune inherits these from its parent. */
export interface ScoringSettings {
  t0: number;
  steps: number;
  draws: number;
  scoreSeed: number;
  /** Version of the model this one was fine-tuned from. */
  parent?: string;
  /** How an imputation model scores; absent for reconstruction. */
  imputation?: ImputationScoring;
}

/**
 * The manifest around a fitted `net`, the validation score quantiles (through `scoreWindows`,
 * the path every scorer uses) and the content-hash version.
 */
export async function assembleModel(net: Denoiser, series: TrainSeries, cfg: ModelConfig, data: PreparedSeries, fit: FitResult, scoring: ScoringSettings): Promise<TrainedModel> {
  const { split, scaler } = data;
  const C = series.channels.length;
  const N = series.timestamps.length;
  const L = cfg.windowLength;
  const manifest: ModelManifest = {
    format: MANIFEST_FORMAT,
    formatVersion: MANIFEST_FORMAT_VERSION,
    version: '',
    schedule: makeNoiseSchedule({ kind: cfg.scheduleKind, T: cfg.T }).args,
    denoiser: net.getConfig(),
    t0: scoring.t0,
    steps: scoring.steps,
    draws: scoring.draws,
    scoreSeed: scoring.scoreSeed,
    windowLength: L,
    channels: [...series.channels],
    normalization: { ...scaler, windowCentering: cfg.windowCentering },
    trainingData: { firstTimestamp: series.timestamps[0], lastTimestamp: series.timestamps[N - 1], rows: N, trainRows: split.trainRows, trainWindows: split.train.length, validationWindows: split.validation.length },
    seed: cfg.seed,
    training: { ...cfg },
    losses: fit,
    validationScores: { windows: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 },
    // Absent rather than undefined for a model trained from scratch: its version hashes as before the field existed.
    ...(scoring.parent !== undefined ? { parent: scoring.parent } : {}),
    // The too-still statistics are refitted on every fit (a fine-tune's data may move differently).
    ...(scoring.imputation !== undefined ? { imputation: { ...withoutRowFits(withoutContextCalibration(scoring.imputation)), stillness: fitStillness(data.trainX, split.train.length, L, C, leftReach(net.args) + 1, scoring.imputation.targets, cfg.stillnessMargin, cfg.roughnessTest, cfg.stillnessStep) } } : {}),
  };
  const rawVal = gatherWindows(series.values, C, L, split.validation); // [Wv, L, C], raw units
  const timestamps = windowTimestamps(series.timestamps, L, split.validation); // [Wv, L]
  if (manifest.imputation && cfg.profileTest && cfg.conditionedProfileOnly) {
    const spansWeek = fitSpansWeek(series.timestamps[0], series.timestamps[N - 1], N);
    const counted = profileScope(manifest.imputation, net.args, spansWeek);
    const centred = cfg.shortFitDispersion ? centredDispersionScope(manifest.imputation, net.args, spansWeek) : [];
    manifest.imputation = withProfileScope(manifest.imputation, cfg, counted, centred);
  }
  const level = manifest.imputation?.centred && cfg.trendLevelTest ? trendLevelOf(manifest, series, split.trainRows, rawVal, timestamps, split.validation.length) : undefined;
  if (level) manifest.imputation!.trendLevel = level;
  const model = makeTrainedModel(manifest, net);
  // First the pooled variance, then the context calibration of the NLL it gives; the later calibrations fit evidence that includes both.
  if (manifest.imputation && cfg.contextVariancePrior > 0) manifest.imputation.contextVariance = poolContextVariance(model, rawVal, timestamps, split.validation.length, cfg.contextVariancePrior);
  if (manifest.imputation && cfg.contextCalibration) manifest.imputation.contextCalibration = calibrateContext(model, rawVal, timestamps, split.validation.length);
  if (manifest.imputation?.profileTest) {
    const fitSample = cfg.profileCalibrationSpan === 'fit' ? evenSample(split.train, PROFILE_FIT_SAMPLE) : [];
    const sample = { raw: gatherWindows(series.values, C, L, fitSample), timestamps: windowTimestamps(series.timestamps, L, fitSample), W: fitSample.length };
    manifest.imputation.profile = calibrateProfile(model, { raw: rawVal, timestamps, W: split.validation.length }, sample, cfg.robustDispersion);
  }
  if (manifest.imputation && cfg.partnerTest) {
    const partners = partnerTestOf(manifest, series, split.trainRows, rawVal, split.validation.length);
    if (partners) manifest.imputation.partners = partners;
  }
  // After the profile calibration and the partner test: the evidence it calibrates includes theirs.
  if (manifest.imputation && manifest.imputation.targets.filter(Boolean).length >= 2) manifest.imputation.channelCalibration = calibrateChannels(model, rawVal, timestamps, split.validation.length);
  manifest.validationScores = scoreQuantiles(scoreWindows(model, rawVal, split.validation.length, { timestamps }).windowScores);
  manifest.version = await modelVersion(model);
  return model;
}

/** A parent's partner test and trend level are refitted on the fine-tune's rows, or dropped. */
function withoutRowFits(imp: ImputationScoring): ImputationScoring {
  const { partners: _parents, trendLevel: _parentsLevel, ...rest } = imp;
  return rest;
}

/**
 * The level test of the centred channels whose slope is certain (trendLevel.ts): curves on the
 * training rows, the residual's spread on the validation windows `rawVal` `[W, L, C]` (raw units)
 * at `timestamps` `[W, L]`. Undefined where no channel's slope is certain.
 */
function trendLevelOf(manifest: ModelManifest, series: TrainSeries, trainRows: number, rawVal: Float32Array, timestamps: Float64Array, W: number): TrendLevel | undefined {
  const centred = manifest.imputation!.centred!;
  const { windowLength: L } = manifest;
  const C = manifest.channels.length;
  const train = normalize(manifest.normalization, series.values.subarray(0, trainRows * C)); // [trainRows, C]
  const offsets = centreForModel(normalize(manifest.normalization, rawVal), L, C, manifest.normalization.windowCentering, manifest.imputation)!; // [W, C], as scoring takes them off
  return fitTrendLevel({ z: train, timestamps: series.timestamps, N: trainRows }, { offsets, timestamps, W, L }, centred);
}

/** The partner test (partnerTest.ts) on the training rows, kept by the validation windows' newest rows `rawVal` `[W, L, C]`. */
function partnerTestOf(manifest: ModelManifest, series: TrainSeries, trainRows: number, rawVal: Float32Array, W: number): PartnerTest | undefined {
  const imp = manifest.imputation!;
  const { windowLength: L } = manifest;
  const C = manifest.channels.length;
  const train = normalize(manifest.normalization, series.values.subarray(0, trainRows * C)); // [N, C]
  const newest = new Float32Array(W * C); // [W, C]
  for (let w = 0; w < W; w++) newest.set(rawVal.subarray((w * L + L - 1) * C, (w * L + L) * C), w * C);
  const groups = targetGroups(imp.targets, imp.reads, manifest.denoiser.groups);
  return fitPartnerTest({ z: train, N: trainRows, C }, { z: normalize(manifest.normalization, newest), N: W, C }, groups);
}

export interface FitResult {
  train: number[];
  validation: number[];
  /** 1-based; 0 when no epoch beat the starting weights (only with `keepStart`). */
  bestEpoch: number;
  bestValidation: number;
}

export interface FitOptions {
  /**
   * Count the starting weights as epoch 0, so that the result is never worse on validation than
   * what the loop started from (fine-tuning an already trained net). A fresh net's start is
   * noise and is not a candidate.
   */
  keepStart?: boolean;
  /** What a step minimises; the whole-window denoising loss by default. */
  objective?: TrainingObjective;
}

/** The epoch loop: Adam steps, validation, early stopping. Leaves the best weights in `net`. */
export async function fitLoop(net: Denoiser, diffusion: GaussianDiffusion, cfg: ModelConfig, data: Pick<PreparedSeries, 'trainX' | 'trainCal' | 'val' | 'split' | 'scaler'>, hooks: TrainHooks, opts: FitOptions = {}): Promise<FitResult> {
  const { windowLength: L, batchSize, epochs } = cfg;
  const { trainX, val } = data;
  const count = data.split.train.length;
  const C = data.scaler.center.length; // the windows' channels; the net may read fewer
  const span = L * C;
  const shuffleRng = seededRng((cfg.seed + STREAM.shuffle) >>> 0);
  const lossRng = seededRng((cfg.seed + STREAM.loss) >>> 0);
  // tf.train.adam's update, to the bit, in a fixed number of kernels per step (flatAdam.ts).
  const optimizer = new FlatAdam(net.trainableVariables(), cfg.lr);
  const objective = opts.objective ?? denoisingObjective;
  const stepsPerEpoch = Math.ceil(count / batchSize);
  const order = Array.from({ length: count }, (_, i) => i);
  const batch = new Float32Array(batchSize * span);
  const calSpan = L * CALENDAR_FEATURES;
  const calBatch = data.trainCal ? new Float32Array(batchSize * calSpan) : undefined;
  const result: FitResult = { train: [], validation: [], bestEpoch: 0, bestValidation: Infinity };
  let best: tf.NamedTensorMap | null = null;
  let sinceBest = 0;
  // With emaDecay, the averaged weights are the ones validated and kept.
  const average = cfg.emaDecay > 0 ? new WeightAverage(net, cfg.emaDecay) : undefined;
  const validate = () => {
    const run = () => validationLoss(net, diffusion, val, L, C, batchSize * 4, objective);
    return average ? average.apply(run) : run();
  };
  if (opts.keepStart) {
    best = snapshot(net);
    result.bestValidation = validate(); // the average starts at these weights
  }
  const started = performance.now();
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      shuffle(order, shuffleRng);
      let sum = 0;
      for (let step = 1; step <= stepsPerEpoch; step++) {
        const idx = order.slice((step - 1) * batchSize, step * batchSize);
        idx.forEach((w, j) => batch.set(trainX.subarray(w * span, (w + 1) * span), j * span));
        if (calBatch) idx.forEach((w, j) => calBatch.set(data.trainCal!.subarray(w * calSpan, (w + 1) * calSpan), j * calSpan));
        const loss = tf.tidy(() => {
          const x0 = tf.tensor3d(batch.subarray(0, idx.length * span), [idx.length, L, C]); // [b, L, C]
          const cal = calBatch ? tf.tensor3d(calBatch.subarray(0, idx.length * calSpan), [idx.length, L, CALENDAR_FEATURES]) : undefined; // [b, L, 4]
          return optimizer.minimize(() => objective(net, diffusion, x0, { rng: lossRng }, cal)).dataSync()[0];
        });
        average?.update();
        if (!Number.isFinite(loss)) {
          throw new ModelError('MODEL_INVALID', `training diverged at epoch ${epoch}, step ${step} (loss ${loss}); lower lr (now ${cfg.lr})`, { field: 'lr', epoch, step });
        }
        sum += loss;
        const done = (epoch - 1) * stepsPerEpoch + step;
        const etaMs = ((performance.now() - started) / done) * (epochs * stepsPerEpoch - done);
        const last = step === stepsPerEpoch;
        const valLoss = last ? validate() : undefined;
        hooks.onProgress?.({ epoch, epochs, step, stepsPerEpoch, loss: sum / step, etaMs, ...(valLoss !== undefined ? { valLoss } : {}) });
        await yieldToEventLoop();
        if (valLoss === undefined) continue;
        result.train.push(sum / stepsPerEpoch);
        result.validation.push(valLoss);
      }
      const valLoss = result.validation[result.validation.length - 1];
      if (valLoss < result.bestValidation) {
        tf.dispose(best ?? {});
        best = average ? average.snapshot() : snapshot(net);
        Object.assign(result, { bestEpoch: epoch, bestValidation: valLoss });
        sinceBest = 0;
      } else if (++sinceBest > cfg.patience) {
        break;
      }
    }
    if (best) net.setWeights(best);
  } finally {
    tf.dispose(best ?? {});
    average?.dispose();
    optimizer.dispose();
  }
  return result;
}
