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
import { chooseDispersion, fitProfileStats, type ProfileStats } from './profileCalibration.ts';
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
 * With `robustDispersion`, each channel's dispersion statistic is chosen on the same windows
 * (chooseDispersion).
 */
export function calibrateProfile(model: TrainedModel, validation: RawWindows, fitSample: RawWindows, robustDispersion: boolean): ProfileStats {
  const imp = model.manifest.imputation!;
  const val = profileStatistics(model, validation);
  const W = validation.W + fitSample.W;
  const all = fitSample.W === 0 ? val : joined(val, profileStatistics(model, fitSample));
  const fit = (d: keyof Statistics): Pick<ProfileStats, 'mean' | 'std'> => {
    const s = fitProfileStats(all[d], W, imp.targets);
    return { mean: s.mean, std: wider(s.std, fitProfileStats(val[d], validation.W, imp.targets).std) };
  };
  const { mean, std } = fit('zBar');
  if (!imp.dispersionTest) return { mean, std };
  const square = fit('dispersion');
  return { mean, std, dispersion: robustDispersion ? chooseDispersion(square, fit('dispersionAbsolute')) : square };
}

type Statistics = Record<'zBar' | 'dispersion' | 'dispersionAbsolute', Float64Array>;

/** z̄ and both dispersion statistics `[W, C]` of windows, in one pass. */
function profileStatistics(model: TrainedModel, w: RawWindows): Statistics {
  const imp = model.manifest.imputation!;
  const C = imp.targets.length;
  const out: Statistics = { zBar: new Float64Array(w.W * C), dispersion: new Float64Array(w.W * C), dispersionAbsolute: new Float64Array(w.W * C) };
  forValidationChunks(model, w.raw, w.timestamps, w.W, (input, start) => {
    const r = profileResiduals(model, imp, input);
    out.zBar.set(r.zBar, start * C);
    if (r.dispersion) out.dispersion.set(r.dispersion, start * C);
    if (r.dispersionAbsolute) out.dispersionAbsolute.set(r.dispersionAbsolute, start * C);
  });
  return out;
}

function joined(a: Statistics, b: Statistics): Statistics {
  return { zBar: concat(a.zBar, b.zBar), dispersion: concat(a.dispersion, b.dispersion), dispersionAbsolute: concat(a.dispersionAbsolute, b.dispersionAbsolute) };
}

/** Each spread at least `floor`'s. */
function wider(std: (number | null)[], floor: (number | null)[]): (number | null)[] {
  return std.map((s, c) => (s === null ? null : Math.max(s, floor[c] ?? 0)));
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
