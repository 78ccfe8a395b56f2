/**
 * The scoring's calibrations, fitted by every fit (training and fine-tune) on windows the net did
 * not train on: the context test's NLL (contextCalibration), the profile and dispersion tests'
 * statistics (profileCalibration.ts), and each target channel's evidence (channelCalibration.ts).
 * The order matters: each later calibration fits evidence that includes the earlier ones.
 */
import type { ImputationScoring, TrainedModel } from './checkpoint.ts';
import { fitChannelCalibration, type ChannelCalibration } from './channelCalibration.ts';
import { contextVariances, imputeChunk, profileResiduals, type ChunkInput } from './imputationScorer.ts';
import { normalize } from './normalization.ts';
import { fitProfileStats, type ProfileStats } from './profileCalibration.ts';
import { centreAsTrained, scoringNoise } from './windowScorer.ts';

/** A parent's context calibration and pooled variance are refitted, never inherited: they came from other weights. */
export function withoutContextCalibration(imp: ImputationScoring): ImputationScoring {
  const { contextCalibration: _parents, contextVariance: _pooled, ...rest } = imp;
  return rest;
}

/**
 * The context test's pooled variance (ModelConfig.contextVariancePrior): per target channel, the
 * mean over the validation windows of the K draws' variance at the newest point.
 */
export function poolContextVariance(model: TrainedModel, raw: Float32Array, timestamps: Float64Array, W: number, weight: number): NonNullable<ImputationScoring['contextVariance']> {
  const imp = model.manifest.imputation!;
  const C = imp.targets.length;
  const sum = new Float64Array(C);
  forValidationChunks(model, raw, timestamps, W, (input) => {
    const v = contextVariances(model, imp, input); // [b, C]
    for (let k = 0; k < v.length; k++) sum[k % C] += v[k];
  });
  return { pooled: imp.targets.map((t, c) => (t && W > 0 ? sum[c] / W : null)), weight };
}

/** The context test's raw NLL per target channel on the held-out validation windows, as knots (channelCalibration.ts). */
export function calibrateContext(model: TrainedModel, raw: Float32Array, timestamps: Float64Array, W: number): ChannelCalibration {
  const imp = model.manifest.imputation!;
  // The raw NLL (under the pooled variance, when the model has one): the calibration is what is being fitted.
  const { contextCalibration: _fitting, ...uncalibrated } = imp;
  const contextOnly: ImputationScoring = { ...uncalibrated, profileTest: false, stillness: undefined, partners: undefined, trendLevel: undefined };
  const C = imp.targets.length;
  const nll = new Float64Array(W * C); // [W, C]
  forValidationChunks(model, raw, timestamps, W, (input, start) => nll.set(imputeChunk(model, contextOnly, input).evidence, start * C));
  return fitChannelCalibration(nll, W, imp.targets);
}

/** Windows `[W, L, C]` in raw units with their timestamps `[W, L]`. */
export interface RawWindows {
  raw: Float32Array;
  timestamps: Float64Array;
  W: number;
}

/** Training windows the profile calibration adds with `profileCalibrationSpan: 'fit'`, at most; as many as one scoring chunk. */
export const PROFILE_FIT_SAMPLE = 256;

/** Up to `n` of `starts`, evenly spaced from the first to the last. */
export function evenSample(starts: readonly number[], n: number): number[] {
  if (starts.length <= n) return [...starts];
  return Array.from({ length: n }, (_, i) => starts[Math.round((i * (starts.length - 1)) / (n - 1))]);
}

/**
 * The profile test's statistics (profileCalibration.ts) on the held-out validation windows, and
 * with `fitSample` windows on those too: mean and spread over all of them, the spread never below
 * the validation windows' own (training windows were fitted, so their residuals may be smaller).
 */
export function calibrateProfile(model: TrainedModel, validation: RawWindows, fitSample: RawWindows): ProfileStats {
  const imp = model.manifest.imputation!;
  const val = profileStatistics(model, validation);
  if (fitSample.W === 0) return fitProfile(val, validation.W, imp.targets, imp.dispersionTest);
  const more = profileStatistics(model, fitSample);
  const W = validation.W + fitSample.W;
  const joined = { zBar: concat(val.zBar, more.zBar), dispersion: concat(val.dispersion, more.dispersion) };
  return widenedTo(fitProfile(joined, W, imp.targets, imp.dispersionTest), fitProfile(val, validation.W, imp.targets, imp.dispersionTest));
}

/** z̄ and d `[W, C]` of windows, in one pass. */
function profileStatistics(model: TrainedModel, w: RawWindows): { zBar: Float64Array; dispersion: Float64Array } {
  const imp = model.manifest.imputation!;
  const C = imp.targets.length;
  const zBar = new Float64Array(w.W * C);
  const dispersion = new Float64Array(w.W * C);
  forValidationChunks(model, w.raw, w.timestamps, w.W, (input, start) => {
    const r = profileResiduals(model, imp, input);
    zBar.set(r.zBar, start * C);
    if (r.dispersion) dispersion.set(r.dispersion, start * C);
  });
  return { zBar, dispersion };
}

function fitProfile(r: { zBar: Float64Array; dispersion: Float64Array }, W: number, targets: readonly boolean[], dispersionTest: boolean | undefined): ProfileStats {
  const stats = fitProfileStats(r.zBar, W, targets);
  return dispersionTest ? { ...stats, dispersion: fitProfileStats(r.dispersion, W, targets) } : stats;
}

/** `stats` with each spread at least `floor`'s. */
function widenedTo(stats: ProfileStats, floor: ProfileStats): ProfileStats {
  const wider = (a: (number | null)[], b: (number | null)[]) => a.map((s, c) => (s === null ? null : Math.max(s, b[c] ?? 0)));
  const out: ProfileStats = { mean: stats.mean, std: wider(stats.std, floor.std) };
  if (stats.dispersion && floor.dispersion) out.dispersion = { mean: stats.dispersion.mean, std: wider(stats.dispersion.std, floor.dispersion.std) };
  return out;
}

function concat(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Each target channel's evidence on the held-out validation windows (channelCalibration.ts). */
export function calibrateChannels(model: TrainedModel, raw: Float32Array, timestamps: Float64Array, W: number): ChannelCalibration {
  const imp = model.manifest.imputation!;
  const C = imp.targets.length;
  const evidence = new Float64Array(W * C); // [W, C]
  forValidationChunks(model, raw, timestamps, W, (input, start) => evidence.set(imputeChunk(model, imp, input).evidence, start * C));
  return fitChannelCalibration(evidence, W, imp.targets);
}

/** Calls `visit` on the validation windows `[W, L, C]` (raw units), normalised, in chunks of 256; `start` is the chunk's first window. */
function forValidationChunks(model: TrainedModel, raw: Float32Array, timestamps: Float64Array, W: number, visit: (input: ChunkInput, start: number) => void): void {
  const { windowLength: L, channels } = model.manifest;
  const C = channels.length;
  const z = normalize(model.manifest.normalization, raw); // [W, L, C]
  for (let start = 0; start < W; start += 256) {
    const b = Math.min(256, W - start);
    const chunk = z.subarray(start * L * C, (start + b) * L * C);
    visit({ z: chunk, timestamps: timestamps.subarray(start * L, (start + b) * L), b, noise: scoringNoise(model), offsets: centreAsTrained(model, chunk) }, start);
  }
}
