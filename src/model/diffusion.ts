/**
 * The Gaussian diffusion process around a denoiser (which it takes as an argument):
 * forward noising, the ε-prediction training loss and deterministic DDIM reconstruction.
 * The schedule is plain data (noiseSchedule.ts); the network only predicts ε.
 *
 * Randomness is injected: every function takes the noise tensor, or a seed / `Rng` from which
 * it draws. Every function runs inside `tf.tidy`; the caller owns (and disposes) what it returns.
 *
 * Sources: Ho et al. 2020 (DDPM) eq. 4, 11, 14; Song et al. 2021 (DDIM) eq. 12;
 * https://github.com/openai/improved-diffusion/blob/main/improved_diffusion/gaussian_diffusion.py
 */
import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../errors.ts';
import type { NoiseSchedule } from './noiseSchedule.ts';

/** The slice of the denoiser the process needs: ε̂ = ε_θ(x_t, t), `[B, L, C]` in and out. */
export interface EpsModel {
  apply(xt: tf.Tensor3D, t: tf.Tensor1D): tf.Tensor3D;
}

/** One timestep for the whole batch, or one per window (`[B]`, int32). */
export type Timesteps = number | tf.Tensor1D;

/** A uniform draw in [0, 1). */
export type Rng = () => number;

/** A small seeded generator (mulberry32) for the tf seeds of successive calls. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

const nextSeed = (rng: Rng) => Math.floor(rng() * 2 ** 31);

function checkT(schedule: NoiseSchedule, t: number, what: string): void {
  if (!Number.isInteger(t) || t < 0 || t >= schedule.T) {
    throw new ModelError('MODEL_INVALID', `${what} must be an integer in [0, ${schedule.T - 1}], got ${t}`, { field: what });
  }
}

/** coef[t] shaped to broadcast over `[B, L, C]`: a scalar, or `[B, 1, 1]` for per-window t. */
function extract(coef: Float64Array, t: Timesteps): tf.Tensor {
  if (typeof t === 'number') return tf.scalar(coef[t]);
  return tf.reshape(tf.gather(tf.tensor1d(Float32Array.from(coef)), t), [-1, 1, 1]); // [B, 1, 1]
}

/** x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε, a draw from q(x_t | x_0) (Ho et al. eq. 4). `[B, L, C]` */
export function qSample(schedule: NoiseSchedule, x0: tf.Tensor3D, t: Timesteps, noise: tf.Tensor3D): tf.Tensor3D {
  if (typeof t === 'number') checkT(schedule, t, 't');
  return tf.tidy(() => tf.add(tf.mul(extract(schedule.sqrtAlphasCumprod, t), x0), tf.mul(extract(schedule.sqrtOneMinusAlphasCumprod, t), noise)) as tf.Tensor3D);
}

/** x̂_0 = (x_t - √(1-ᾱ_t) ε) / √ᾱ_t, eq. 4 solved for x_0. `[B, L, C]` */
export function predictStartFromNoise(schedule: NoiseSchedule, xt: tf.Tensor3D, t: Timesteps, eps: tf.Tensor3D): tf.Tensor3D {
  if (typeof t === 'number') checkT(schedule, t, 't');
  return tf.tidy(() => tf.sub(tf.mul(extract(schedule.sqrtRecipAlphasCumprod, t), xt), tf.mul(extract(schedule.sqrtRecipm1AlphasCumprod, t), eps)) as tf.Tensor3D);
}

export interface DdimStepOptions {
  /** 0: deterministic DDIM; 1: the DDPM posterior variance. Default 0. */
  eta?: number;
  /** Fresh noise `[B, L, C]`, required when eta > 0. */
  noise?: tf.Tensor3D;
}

/**
 * One DDIM step from x_t to x_{tPrev} given ε̂ (Song et al. eq. 12):
 *   x_prev = √ᾱ_prev x̂_0 + √(1 - ᾱ_prev - σ²) ε̂ + σ z,   σ = η √((1-ᾱ_prev)/(1-ᾱ_t)) √(1 - ᾱ_t/ᾱ_prev).
 * tPrev = -1 means the clean end (ᾱ_prev = 1): the step returns x̂_0.
 */
export function ddimStep(schedule: NoiseSchedule, xt: tf.Tensor3D, eps: tf.Tensor3D, t: number, tPrev: number, opts: DdimStepOptions = {}): tf.Tensor3D {
  checkT(schedule, t, 't');
  if (tPrev !== -1) checkT(schedule, tPrev, 'tPrev');
  if (tPrev >= t) throw new ModelError('MODEL_INVALID', `ddimStep goes backwards in time: tPrev (${tPrev}) must be < t (${t})`, { field: 'tPrev' });
  const eta = opts.eta ?? 0;
  if (eta > 0 && !opts.noise) throw new ModelError('MODEL_INVALID', 'ddimStep with eta > 0 needs fresh noise', { field: 'noise' });
  const abar = schedule.alphasCumprod[t];
  const abarPrev = tPrev === -1 ? 1 : schedule.alphasCumprod[tPrev];
  const sigma = eta * Math.sqrt((1 - abarPrev) / (1 - abar)) * Math.sqrt(1 - abar / abarPrev);
  return tf.tidy(() => {
    const x0 = predictStartFromNoise(schedule, xt, t, eps); // [B, L, C]
    // max(0, ·) guards the float rounding of 1 - ᾱ_prev - σ² at the clean end.
    let out = tf.add(tf.mul(Math.sqrt(abarPrev), x0), tf.mul(Math.sqrt(Math.max(0, 1 - abarPrev - sigma ** 2)), eps));
    if (sigma > 0) out = tf.add(out, tf.mul(sigma, opts.noise!));
    return out as tf.Tensor3D; // [B, L, C]
  });
}

export interface TrainingLossOptions {
  /** Source of the tf seeds for t and ε; pass the same Rng across steps. Required unless both t and noise are given. */
  rng?: Rng;
  /** Fixed timesteps `[B]` (int32) instead of uniform draws. */
  t?: tf.Tensor1D;
  /** Fixed ε `[B, L, C]` instead of a standard normal draw. */
  noise?: tf.Tensor3D;
}

/**
 * L_simple = E_{t, ε} ‖ε - ε_θ(√ᾱ_t x_0 + √(1-ᾱ_t) ε, t)‖², t ~ U{0 … T-1} (Ho et al. eq. 14).
 * Returns a scalar; use it inside `optimizer.minimize(() => trainingLoss(...))`.
 */
export function trainingLoss(schedule: NoiseSchedule, model: EpsModel, x0: tf.Tensor3D, opts: TrainingLossOptions): tf.Scalar {
  const { rng } = opts;
  if (!rng && !(opts.t && opts.noise)) throw new ModelError('MODEL_INVALID', 'trainingLoss needs an rng unless both t and noise are given', { field: 'rng' });
  return tf.tidy(() => {
    const batch = x0.shape[0];
    const t = opts.t ?? (tf.randomUniform([batch], 0, schedule.T, 'int32', nextSeed(rng!)) as tf.Tensor1D); // [B]
    const noise = opts.noise ?? tf.randomNormal(x0.shape, 0, 1, 'float32', nextSeed(rng!)); // [B, L, C]
    const xt = qSample(schedule, x0, t, noise); // [B, L, C]
    return tf.mean(tf.squaredDifference(noise, model.apply(xt, t))) as tf.Scalar;
  });
}

export { reconstruct, ddimTimesteps, type ReconstructOptions, type Reconstruction } from './reconstruct.ts';
