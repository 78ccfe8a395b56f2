/**
 * Conditional diffusion for imputation: the denoiser is told which points are observed and
 * their values, and generates only the masked ones. Scoring asks it for the newest point given
 * the window before it, K times, and measures how unlikely the observed value is under those
 * draws. A jump at a quiet phase then stands out even inside the series' range, and a noisy
 * phase gets a wide spread instead of false alerts.
 *
 *   m            mask `[B, L, C]`: 1 where the point is generated (target), 0 where observed
 *   cond         [x_0 ⊙ (1 - m), m, cal]  `[B, L, 2C (+4)]`  observed values, the mask (CSDI's side
 *                input) and, for a model with a calendar, the time of day and week (calendar.ts)
 *   x̂_0          f_θ(x_t ⊙ m, t, cond)                   the net predicts the clean targets
 *   loss         Σ m (x_0 - x̂_0)² / Σ m                  on the targets only
 *   ε̂            (x_t - √ᾱ_t x̂_0) / √(1-ᾱ_t)             what the DDIM step takes
 *   sampling     x_T ~ N(0, I) on the targets, S DDIM steps to x_0, observed entries kept as given
 *   μ, s²        mean and variance over the K draws, per target entry
 *   nll          ½ ((x - μ) / σ)² + log(σ / σ_min),   σ² = s² + σ_min²
 *                (with a pooled variance τ² of weight ν: s² → (K·s² + ν·τ²)/(K + ν))
 *
 * `nll` is the predictive negative log-likelihood under a Gaussian fitted to the draws, shifted by
 * its smallest possible value so that it is ≥ 0 and adds up over channels. σ_min (scaled units) stops
 * a phase the model finds perfectly predictable from turning noise into alerts.
 *
 * A model whose net reads only some channels (`reads`, conditioningRelation.ts) runs it on those
 * C' channels: x_t, x_0 and m are cut to them, and its output put back in place. A command left
 * unread is then no input at all; held constant beside the others it still cost accuracy, since
 * the input projection's initial weights scale with 1/√(fan-in) and 24 dead commands made the one
 * analogue channel's 5 times smaller (docs/tuning-log.md, variant 14).
 *
 * Why x_0 and not ε, as the unconditional model predicts: sampling starts at t = T-1, where
 * ᾱ ≈ 2e-7 and an ε-model's x̂_0 = (x_t - √(1-ᾱ) ε̂)/√ᾱ multiplies its smallest error by ~2,000.
 * Measured on a sine with 3-5σ contextual spikes (docs/tuning-log.md), three seeds each: the
 * ε-model's spike AUCs ranged 0.52-0.95 from seed to seed, the x_0-model's 0.98-1.00.
 *
 * Sources: Tashiro et al. 2021 (CSDI) eq. 6-7 (conditional model, loss on the targets);
 * Ho et al. 2020 §3.2 and Ramesh et al. 2022 / Diffusion-TS (Yuan & Qiao 2024) for predicting x_0;
 * Chen et al. 2024 (ImDiffusion, VLDB) for imputation-based anomaly scoring;
 * Song et al. 2021 (DDIM) eq. 12 for the sampler (GaussianDiffusion.ddimStep).
 */
import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../errors.ts';
import { ddimTimesteps, type EpsModel, type GaussianDiffusion, type TrainingLossOptions } from './diffusion.ts';
import { repeatBatch } from './repeatBatch.ts';

/** [x_0 ⊙ (1 - m), m, calendar]: what the denoiser is told besides x_t. `[B, L, 2C (+ 4)]` */
export function conditionInput(x0: tf.Tensor3D, mask: tf.Tensor3D, calendar?: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => tf.concat([tf.mul(x0, tf.sub(1, mask)), mask, ...(calendar ? [calendar] : [])], 2) as tf.Tensor3D);
}

/** The indices of the channels a net reads, from the manifest's per-channel flags; undefined when it reads all. */
export function readIndices(reads: readonly boolean[] | undefined): number[] | undefined {
  return reads && !reads.every(Boolean) ? reads.flatMap((r, c) => (r ? [c] : [])) : undefined;
}

/** x̂_0 = f_θ(x_t ⊙ m, t, cond) on windows `[B, L, C]`, for a fixed x_0 and mask (call inside tf.tidy). */
type NetCall = (xt: tf.Tensor3D, t: tf.Tensor1D) => tf.Tensor3D;

/**
 * The net as a function of x_t alone, its conditioning built once. With `reads` (C' indices) the
 * net sees only those channels, and its `[B, L, C']` output is put back at their places in
 * `[B, L, C]` by a one-hot product (a plain matMul, so the training gradient needs no scatter
 * kernel); the other channels get 0, and are never targets.
 */
function netOnChannels(model: EpsModel, x0: tf.Tensor3D, mask: tf.Tensor3D, calendar: tf.Tensor3D | undefined, reads: readonly number[] | undefined): NetCall {
  if (!reads) {
    const cond = conditionInput(x0, mask, calendar); // [B, L, 2C (+ 4)]
    return (xt, t) => model.apply(tf.mul(xt, mask) as tf.Tensor3D, t, cond);
  }
  const [B, L, C] = x0.shape;
  const n = reads.length;
  const pick = (x: tf.Tensor3D) => tf.gather(x, reads as number[], 2) as tf.Tensor3D; // [B, L, C']
  const m = pick(mask);
  const cond = conditionInput(pick(x0), m, calendar); // [B, L, 2C' (+ 4)]
  const place = tf.tensor2d(Float32Array.from({ length: n * C }, (_, k) => (reads[Math.floor(k / C)] === k % C ? 1 : 0)), [n, C]); // [C', C]
  return (xt, t) => {
    const out = model.apply(tf.mul(pick(xt), m) as tf.Tensor3D, t, cond); // [B, L, C']
    return tf.reshape(tf.matMul(tf.reshape(out, [B * L, n]), place), [B, L, C]) as tf.Tensor3D;
  };
}

export interface ImputationLossOptions extends TrainingLossOptions {
  /** Calendar features `[B, L, 4]`, for a model that takes them. */
  calendar?: tf.Tensor3D;
  /** The channels the net reads (`readIndices`); all when absent. */
  reads?: readonly number[];
}

/** L_simple over the target entries only (CSDI eq. 7), a scalar for `optimizer.minimize`. */
export function imputationLoss(diffusion: GaussianDiffusion, model: EpsModel, x0: tf.Tensor3D, mask: tf.Tensor3D, opts: ImputationLossOptions): tf.Scalar {
  diffusion.checkTrainingDraws(opts, 'imputationLoss');
  return tf.tidy(() => {
    const { t, noise } = diffusion.trainingDraws(x0, opts);
    const xt = diffusion.qSample(x0, t, noise); // [B, L, C]
    const out = netOnChannels(model, x0, mask, opts.calendar, opts.reads)(xt, t); // [B, L, C]
    const se = tf.mul(tf.squaredDifference(x0, out), mask); // [B, L, C]: the net predicts x_0 itself
    return tf.div(tf.sum(se), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}

export interface ImputeOptions {
  /** DDIM steps S from T-1 down to x_0. */
  steps: number;
  /** Draws K. */
  draws: number;
  /** Starting noise `[K·B, L, C]` (draw-major); drawn from `seed` when absent. */
  noise?: tf.Tensor3D;
  seed?: number;
  /** Calendar features `[B, L, 4]`, for a model that takes them. */
  calendar?: tf.Tensor3D;
  /** The channels the net reads (`readIndices`); all when absent. */
  reads?: readonly number[];
}

/**
 * K imputations of the masked entries of every window, observed entries as given.
 * @returns `[K, B, L, C]`
 */
export function impute(diffusion: GaussianDiffusion, model: EpsModel, x0: tf.Tensor3D, mask: tf.Tensor3D, opts: ImputeOptions): tf.Tensor4D {
  const { steps, draws } = opts;
  const T = diffusion.schedule.T;
  const timesteps = ddimTimesteps(T - 1, steps);
  const [batch, len, channels] = x0.shape;
  const kb = draws * batch;
  if (opts.noise && opts.noise.size !== kb * len * channels) {
    throw new ModelError('MODEL_MISMATCH', `impute noise must be [${kb}, ${len}, ${channels}], got [${opts.noise.shape}]`, { field: 'noise' });
  }
  return tf.tidy(() => {
    const xs = repeatBatch(x0, draws); // [K·B, L, C], draw-major
    const ms = repeatBatch(mask, draws); // [K·B, L, C]
    const cal = opts.calendar ? repeatBatch(opts.calendar, draws) : undefined; // [K·B, L, 4]
    const net = netOnChannels(model, xs, ms, cal, opts.reads);
    // ᾱ_{T-1} ≈ 0 for a cosine schedule: x_{T-1} is pure noise on the targets.
    let x = (opts.noise ? tf.reshape(opts.noise, [kb, len, channels]) : tf.randomNormal([kb, len, channels], 0, 1, 'float32', opts.seed ?? 0)) as tf.Tensor3D;
    timesteps.forEach((t, i) => {
      const out = net(x, tf.fill([kb], t, 'int32') as tf.Tensor1D); // [K·B, L, C]
      x = diffusion.ddimStep(x, epsFromStart(diffusion, x, out, t), t, i + 1 < timesteps.length ? timesteps[i + 1] : -1); // [K·B, L, C]
    });
    const kept = tf.add(tf.mul(x, ms), tf.mul(xs, tf.sub(1, ms))); // [K·B, L, C]
    return tf.reshape(kept, [draws, batch, len, channels]) as tf.Tensor4D;
  });
}

/**
 * |x̂_0| is clipped to this many robust-scaled units before each DDIM step (improved-diffusion's
 * `clip_denoised`): a draw never leaves a range that normal data (a robust z of 10) is well inside.
 */
export const DENOISED_CLIP = 10;

/** ε = (x_t - √ᾱ_t clip(x̂_0)) / √(1-ᾱ_t): the noise that x̂_0 implies at x_t (improved-diffusion's `_predict_eps_from_xstart`). */
function epsFromStart(diffusion: GaussianDiffusion, xt: tf.Tensor3D, x0Hat: tf.Tensor3D, t: number): tf.Tensor3D {
  return tf.tidy(() => {
    const x0 = tf.clipByValue(x0Hat, -DENOISED_CLIP, DENOISED_CLIP); // [B, L, C]
    const abar = diffusion.schedule.alphasCumprod[t];
    return tf.div(tf.sub(xt, tf.mul(Math.sqrt(abar), x0)), Math.sqrt(1 - abar)) as tf.Tensor3D;
  });
}

export interface PredictiveNll {
  /** ½ z² + log(σ/σ_min) per entry, 0 where not a target. `[B, L, C]` */
  nll: tf.Tensor3D;
  /** Mean of the draws. `[B, L, C]` */
  mean: tf.Tensor3D;
}

/**
 * A pooled variance τ² per channel `[C]` with its weight ν in draws: the K draws' variance s²
 * becomes (K·s² + ν·τ²)/(K + ν), a noisy s² pulled towards what is usual for the channel.
 */
export interface VariancePrior {
  pooled: ArrayLike<number>;
  weight: number;
}

/** How unlikely each observed target entry is under a Gaussian fitted to the K draws `[K, B, L, C]`. */
export function predictiveNll(samples: tf.Tensor4D, x0: tf.Tensor3D, mask: tf.Tensor3D, sigmaFloor: number, prior?: VariancePrior): PredictiveNll {
  if (!(sigmaFloor > 0)) throw new ModelError('MODEL_INVALID', `sigmaFloor must be > 0, got ${sigmaFloor}`, { field: 'sigmaFloor' });
  return tf.tidy(() => {
    const { mean, variance: drawn } = tf.moments(samples, 0); // [B, L, C] each
    const variance = prior && prior.weight > 0 ? shrunkVariance(drawn, samples.shape[0], prior) : drawn; // [B, L, C]
    const sigma2 = tf.add(variance, sigmaFloor ** 2); // [B, L, C]
    const z2 = tf.div(tf.squaredDifference(x0, mean), sigma2); // [B, L, C]
    const nll = tf.add(tf.mul(0.5, z2), tf.mul(0.5, tf.log(tf.div(sigma2, sigmaFloor ** 2)))); // [B, L, C], ≥ 0
    return { nll: tf.mul(nll, mask) as tf.Tensor3D, mean: mean as tf.Tensor3D };
  });
}

/** (K·s² + ν·τ²)/(K + ν) for s² `[B, L, C]` and τ² `[C]` (call inside tf.tidy). */
function shrunkVariance(drawn: tf.Tensor, K: number, prior: VariancePrior): tf.Tensor {
  const C = drawn.shape[drawn.rank - 1];
  const pooled = tf.tensor1d(Float32Array.from(prior.pooled)); // [C]
  if (pooled.size !== C) throw new ModelError('MODEL_INVALID', `the pooled variance has ${pooled.size} channels, the draws ${C}`, { field: 'contextVariance', expected: C, actual: pooled.size });
  return tf.div(tf.add(tf.mul(drawn, K), tf.mul(pooled, prior.weight)), K + prior.weight);
}
