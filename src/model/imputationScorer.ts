/**
 * One chunk of windows scored by imputation (see imputation.ts): the newest point of every
 * target channel is generated K times, and the observed value is scored by its predictive NLL;
 * conditioning channels add their novelty term (imputationSpec.ts).
 *
 *   context test   the newest point generated from the points before it (and the calendar)
 *   profile test   the window generated with the whole of it hidden, from the calendar and the
 *                  commands alone (models with `profileTest`); the newest `profileSpan` points'
 *                  mean standardised residual is the evidence
 *   partner test   the newest point against the other channels of its group at that moment,
 *                  a least-squares fit (models with `partners`, partnerTest.ts)
 *   level test     a trend-centred channel's window mean against its trend and daily profile
 *                  (models with `trendLevel`, trendLevel.ts)
 *   evidence[c]    max of the tests: a point is as surprising as the test it fails worst,
 *                  plus the too-still term (stillness.ts) for flatlines and stuck sensors.
 *                  The profile and dispersion terms are calibrated on the validation windows
 *                  (½ z² of a standardised statistic); with `contextCalibration` the context
 *                  test's NLL is too, as −log P(NLL ≥ e) on those windows: K draws give a spread
 *                  that is itself noisy, so the raw NLL's normal tail is far heavier than ½ z²'s,
 *                  and in a max it would outvote a calibrated test that has clearly failed
 *
 * windowScorer.ts turns the per-channel evidence into point and window scores.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../errors.ts';
import { CALENDAR_FEATURES, calendarFeatures } from './calendar.ts';
import type { ImputationScoring, TrainedModel } from './checkpoint.ts';
import { leftReach } from './denoiser.ts';
import { impute, predictiveNll, readIndices, type VariancePrior } from './imputation.ts';
import { surprises } from './channelCalibration.ts';
import { clampConditioning, noveltyTerms } from './imputationSpec.ts';
import { partnerTerms } from './partnerTest.ts';
import { dispersionTerms, profileTerms } from './profileCalibration.ts';
import { stillnessTerms } from './stillness.ts';
import { trendLevelTerms } from './trendLevel.ts';
import { newestPointMask } from './trainingObjective.ts';
import { broadcastAxis1, repeatBatch } from './repeatBatch.ts';

export interface ImputedChunk {
  /** Evidence of the newest point per channel: NLL for targets, novelty for the others. `[b, C]` */
  evidence: Float64Array;
  /** Mean of the context test's draws at the newest point, scaled units (the observed value for non-targets). `[b, C]` */
  mean: Float32Array;
}

/** What one chunk is scored from. */
export interface ChunkInput {
  /** Normalised windows `[b, L, C]`. */
  z: Float32Array;
  /** Point timestamps `[b, L]`, epoch ms; required by a model with a calendar. */
  timestamps?: ArrayLike<number>;
  b: number;
  /** The model's scoring noise `[K, 1, L, C]`, the same for every window (common random numbers). */
  noise: Float32Array;
  /** Each window's per-channel mean taken off its targets with `windowCentering` `[b, C]`: z + offset is the window as it arrived. */
  offsets?: Float32Array;
}

/** The whole window of every target channel, hidden. `[b, R, C]` */
function wholeWindowMask(b: number, R: number, targets: readonly boolean[]): Float32Array {
  const C = targets.length;
  return Float32Array.from({ length: b * R * C }, (_, k) => (targets[k % C] ? 1 : 0));
}

/** The tensors both tests start from: the last R points of each window, the scoring noise and the calendar. */
interface ChunkTensors {
  R: number;
  x0: tf.Tensor3D; // [b, R, C]
  /** K draws under each of the masks `[b, R, C]`, in one batch of m·b windows while that is at most MERGED_BATCH_MAX: m × `[K, b, R, C]`. */
  draw(masks: tf.Tensor3D[]): tf.Tensor4D[];
}

/**
 * The largest chunk whose two tests run as one batch. Merging saves per-call costs, which matter
 * for small chunks (1.08x at 16 windows, level at 64 and above; docs/benchmarks.md), but doubles
 * the tensors alive in the call: scoring 512-window chunks that way raised peak RSS by a third.
 */
const MERGED_BATCH_MAX = 256;

/**
 * Only the last R points can reach the newest one through the net, so the rest is not computed
 * (call inside tf.tidy). The two tests can run in one batch: the same values as two calls, in half
 * the kernel calls.
 */
function chunkTensors(model: TrainedModel, imp: ImputationScoring, input: ChunkInput): ChunkTensors {
  const { windowLength: L, channels } = model.manifest;
  const C = channels.length;
  const { b } = input;
  const K = imp.draws;
  // The same scores at L/R of the cost (2x for L = 32 with the NAB net, 4x for the default L = 64).
  const R = Math.min(L, leftReach(model.denoiser.args) + 1);
  const x0 = tf.slice(tf.tensor3d(input.z, [b, L, C]), [0, L - R, 0], [b, R, C]) as tf.Tensor3D; // [b, R, C]
  const draws = tf.slice(tf.tensor4d(input.noise, [K, 1, L, C]), [0, 0, L - R, 0], [K, 1, R, C]); // [K, 1, R, C]
  const calendar = imp.calendar ? recentCalendar(input.timestamps, b, L, R) : undefined; // [b, R, 4]
  const draw = (masks: tf.Tensor3D[]): tf.Tensor4D[] => {
    const m = masks.length;
    if (m > 1 && m * b > MERGED_BATCH_MAX) return masks.flatMap((mask) => draw([mask]));
    const eps = tf.reshape(broadcastAxis1(draws, m * b), [K * m * b, R, C]) as tf.Tensor3D; // [K·m·b, R, C]: common random numbers
    const opts = { steps: imp.steps, draws: K, noise: eps, calendar: calendar && repeatBatch(calendar, m), reads: readIndices(imp.reads) };
    const all = impute(model.diffusion, model.denoiser, repeatBatch(x0, m), m === 1 ? masks[0] : (tf.concat(masks, 0) as tf.Tensor3D), opts); // [K, m·b, R, C]
    if (m === 1) return [all];
    // Mask i's windows are one contiguous run per draw, so the split copies K blocks, not K·b·R rows.
    const parts = tf.reshape(all, [K, m, b * R * C]); // [K, m, b·R·C]
    return masks.map((_, i) => tf.reshape(tf.slice(parts, [0, i, 0], [K, 1, b * R * C]), [K, b, R, C]) as tf.Tensor4D);
  };
  return { R, x0, draw };
}

/** The whole window of every target channel hidden: the profile test's mask. `[b, R, C]` */
function profileMask(imp: ImputationScoring, b: number, R: number): tf.Tensor3D {
  return tf.tensor3d(wholeWindowMask(b, R, imp.targets), [b, R, imp.targets.length]);
}

/** A type, not an interface: tf.tidy returns only index-signature objects. */
export type ProfileResiduals = {
  zBar: Float32Array;
  /** ln mean z² `[b, C]`. */
  dispersion?: Float32Array;
  /** ln mean |z| `[b, C]`, when asked for: the robust dispersion's statistic (profileCalibration.ts, chooseDispersion). */
  dispersionAbsolute?: Float32Array;
};

/**
 * The profile test's statistics for b normalised windows, before any calibration: what training
 * fits `imp.profile` on; both dispersion statistics with `dispersionTest`.
 */
export function profileResiduals(model: TrainedModel, imp: ImputationScoring, input: ChunkInput): ProfileResiduals {
  const { windowLength: L, channels, normalization } = model.manifest;
  const fed = { ...input, z: clampConditioning(input.z, input.b, L, channels.length, imp, normalization) };
  return tf.tidy(() => {
    const t = chunkTensors(model, imp, fed);
    const [samples] = t.draw([profileMask(imp, input.b, t.R)]);
    return meanResidual(samples, t.x0, imp, t.R, true);
  });
}

export function imputeChunk(model: TrainedModel, imp: ImputationScoring, input: ChunkInput): ImputedChunk {
  const { windowLength: L, channels } = model.manifest;
  const C = channels.length;
  const { b } = input;
  const fed = { ...input, z: clampConditioning(input.z, b, L, C, imp, model.manifest.normalization) };
  const { nll, mean, profile } = tf.tidy(() => {
    const t = chunkTensors(model, imp, fed);
    const newestMask = tf.tensor3d(newestPointMask(b, t.R, imp.targets), [b, t.R, C]); // [b, R, C]: what is scored
    const newest = (x: tf.Tensor) => tf.reshape(tf.slice(x, [0, t.R - 1, 0], [b, 1, C]), [b, C]).dataSync() as Float32Array; // [b, C]
    const [contextDraws, profileDraws] = t.draw(imp.profileTest ? [newestMask, profileMask(imp, b, t.R)] : [newestMask]);
    const context = predictiveNll(contextDraws, t.x0, newestMask, imp.sigmaFloor, variancePrior(imp));
    const absolute = imp.profile?.dispersion?.absolute;
    return { nll: newest(context.nll), mean: newest(context.mean), profile: profileDraws && meanResidual(profileDraws, t.x0, imp, t.R, absolute?.some(Boolean) ?? false) };
  });
  // Calibrated, the NLL meets the profile and dispersion terms in their units (−log p, about ½ z²).
  const evidence = imp.contextCalibration ? surprises(nll, b, imp.contextCalibration) : Float64Array.from(nll);
  if (profile) {
    // Calibrated on the validation windows (profileCalibration.ts); uncalibrated ½ z̄² for a model without the statistics.
    const terms = imp.profile ? profileTerms(profile.zBar, b, imp.profile) : Float64Array.from(profile.zBar, (v) => 0.5 * v * v);
    const scatter = profile.dispersion && imp.profile?.dispersion ? dispersionTerms(chosenDispersion(profile, imp.profile.dispersion.absolute, C), b, imp.profile.dispersion) : undefined;
    const counts = imp.profileChannels;
    const scatterOnly = imp.centredDispersionChannels;
    for (let k = 0; k < evidence.length; k++) {
      if (!counts || counts[k % C]) evidence[k] = Math.max(evidence[k], terms[k], scatter?.[k] ?? 0);
      else if (scatterOnly?.[k % C]) evidence[k] = Math.max(evidence[k], scatter?.[k] ?? 0);
    }
  }
  if (imp.partners) {
    // The levels as they arrived: the relation is between the channels' own values.
    const newest = Float32Array.from({ length: b * C }, (_, k) => input.z[(Math.floor(k / C) * L + L - 1) * C + (k % C)] + (input.offsets?.[k] ?? 0)); // [b, C]
    const partner = partnerTerms(newest, b, imp.partners);
    for (let k = 0; k < evidence.length; k++) evidence[k] = Math.max(evidence[k], partner[k]);
  }
  if (imp.trendLevel && input.offsets) {
    // The centred channels' levels against their trend (trendLevel.ts): the net sees their shape alone.
    const level = trendLevelTerms(input.offsets, input.timestamps, b, L, imp.trendLevel);
    for (let k = 0; k < evidence.length; k++) evidence[k] = Math.max(evidence[k], level[k]);
  }
  for (let w = 0; w < b; w++) {
    const terms = noveltyTerms(input.z, w, L, C, imp, model.manifest.normalization, model.manifest.trainingData.trainRows);
    for (let c = 0; c < C; c++) {
      if (imp.targets[c]) continue;
      evidence[w * C + c] = terms[c];
      mean[w * C + c] = input.z[(w * L + L - 1) * C + c]; // as observed, not as the net was fed it
    }
    if (!imp.stillness) continue;
    const still = stillnessTerms(input.z, w, L, C, imp.stillness);
    for (let c = 0; c < C; c++) evidence[w * C + c] += still[c];
  }
  return { evidence, mean };
}

/** d `[b, C]`: ln mean |z| on the channels marked `absolute`, ln mean z² on the others. */
function chosenDispersion(r: ProfileResiduals, absolute: boolean[] | undefined, C: number): Float32Array {
  const square = r.dispersion!;
  if (!absolute?.some(Boolean)) return square;
  return Float32Array.from(square, (v, k) => (absolute[k % C] ? r.dispersionAbsolute![k] : v));
}

/** The model's pooled context variance as predictiveNll takes it; undefined without one. */
function variancePrior(imp: ImputationScoring): VariancePrior | undefined {
  const v = imp.contextVariance;
  return v && v.weight > 0 ? { pooled: v.pooled.map((p) => p ?? 0), weight: v.weight } : undefined;
}

/** The context test's draws' variance at the newest point `[b, C]` (0 for non-targets): what training pools into `contextVariance`. */
export function contextVariances(model: TrainedModel, imp: ImputationScoring, input: ChunkInput): Float32Array {
  const { windowLength: L, channels } = model.manifest;
  const C = channels.length;
  const { b } = input;
  const fed = { ...input, z: clampConditioning(input.z, b, L, C, imp, model.manifest.normalization) };
  return tf.tidy(() => {
    const t = chunkTensors(model, imp, fed);
    const newestMask = tf.tensor3d(newestPointMask(b, t.R, imp.targets), [b, t.R, C]); // [b, R, C]
    const [draws] = t.draw([newestMask]);
    const { variance } = tf.moments(draws, 0); // [b, R, C]
    return tf.mul(tf.reshape(tf.slice(variance, [0, t.R - 1, 0], [b, 1, C]), [b, C]), tf.tensor2d(imp.targets.map((x) => (x ? 1 : 0)), [1, C])).dataSync() as Float32Array;
  });
}

/**
 * The profile test's statistic per window and channel `[b, C]` from the whole-window draws
 * `[K, b, R, C]`: z̄, the mean over the newest n = profileSpan points of z = (x − μ)/σ (σ² = the
 * draws' variance + σ_min²); 0 for non-targets. A stretch that is wrong for the time of day moves
 * every z the same way, and one point's noise is diluted. profileCalibration.ts turns it into evidence.
 * With `dispersionTest`, also d = ln mean z² over the same points: a noise change moves it, not z̄;
 * with `withAbsolute`, ln mean |z| too (the robust statistic, profileCalibration.ts). On the
 * channels of `centredDispersionChannels` z − z̄ takes z's place: a level the draws miss leaves
 * them unmoved.
 */
function meanResidual(samples: tf.Tensor4D, x0: tf.Tensor3D, imp: ImputationScoring, R: number, withAbsolute: boolean): ProfileResiduals {
  const n = Math.min(R, imp.profileSpan ?? 1);
  const [, b, , C] = samples.shape;
  const { mean, variance } = tf.moments(samples, 0); // [b, R, C] each
  const z = tf.div(tf.sub(x0, mean), tf.sqrt(tf.add(variance, imp.sigmaFloor ** 2))); // [b, R, C]
  const recent = tf.slice(z, [0, R - n, 0], [b, n, C]); // [b, n, C]
  const onTargets = tf.tensor2d(imp.targets.map((t) => (t ? 1 : 0)), [1, C]); // [1, C]
  const zBar = tf.mul(tf.mean(recent, 1), onTargets).dataSync() as Float32Array; // [b, C]
  if (!imp.dispersionTest) return { zBar };
  const centred = imp.centredDispersionChannels;
  const scatter = centred?.some(Boolean) ? tf.sub(recent, tf.mul(tf.mean(recent, 1, true), tf.tensor3d(centred.map((c) => (c ? 1 : 0)), [1, 1, C]))) : recent; // [b, n, C]
  // ln mean z² (and ln mean |z|), floored so that a perfectly predicted stretch stays finite.
  const logMean = (x: tf.Tensor) => tf.mul(tf.log(tf.add(tf.mean(x, 1), 1e-6)), onTargets).dataSync() as Float32Array; // [b, C]
  const dispersion = logMean(tf.square(scatter));
  return withAbsolute ? { zBar, dispersion, dispersionAbsolute: logMean(tf.abs(scatter)) } : { zBar, dispersion };
}

/** Calendar features of the last R points of every window. `[b, R, 4]` */
function recentCalendar(timestamps: ArrayLike<number> | undefined, b: number, L: number, R: number): tf.Tensor3D {
  if (!timestamps || timestamps.length !== b * L) {
    throw new ModelError('MODEL_MISMATCH', `this model takes calendar features: scoring needs ${b * L} point timestamps ([${b}, ${L}]), got ${timestamps?.length ?? 'none'}`, { field: 'timestamps', expected: b * L, actual: timestamps?.length ?? 0 });
  }
  const recent = new Float64Array(b * R);
  for (let w = 0; w < b; w++) for (let i = 0; i < R; i++) recent[w * R + i] = timestamps[w * L + L - R + i];
  return tf.tensor3d(calendarFeatures(recent), [b, R, CALENDAR_FEATURES]);
}
