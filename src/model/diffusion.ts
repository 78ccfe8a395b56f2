/**
 * The Gaussian diffusion process around a denoiser, which every method takes as an argument
 * (improved-diffusion's `GaussianDiffusion.p_sample(self, model, ...)`): forward noising,
 * the ε-prediction training loss and deterministic DDIM reconstruction. The schedule is plain
 * data (noiseSchedule.ts); the network only predicts ε.
 *
 * Randomness is injected: methods take the noise tensor, or a seed / `Rng` to draw it from.
 * Every method runs inside `tf.tidy`; the caller owns (and disposes) what it returns.
 *
 * Example:
 *   const diffusion = new GaussianDiffusion(makeNoiseSchedule({ kind: 'cosine', T: 100 }));
 *   const { reconstruction, sqError } = diffusion.reconstruct(denoiser, x0, { t0: 30, steps: 1, draws: 4, seed: 1 });
 *
 * Sources: Ho et al. 2020 (DDPM) eq. 4, 14; Song et al. 2021 (DDIM) eq. 12;
 * https://github.com/openai/improved-diffusion/blob/main/improved_diffusion/gaussian_diffusion.py
 */
import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../errors.ts';
import type { NoiseSchedule } from './noiseSchedule.ts';
import { mulberry32 } from '../random.ts';
import { repeatBatch } from './repeatBatch.ts';

/** The slice of the denoiser the process needs: ε̂ = ε_θ(x_t, t), `[B, L, C]` in and out. */
export interface EpsModel {
  /** `cond` `[B, L, condChannels]`: what a conditional denoiser is told besides x_t (imputation.ts). */
  apply(xt: tf.Tensor3D, t: tf.Tensor1D, cond?: tf.Tensor3D): tf.Tensor3D;
}

/** One timestep for the whole batch, or one per window (`[B]`, int32). */
export type Timesteps = number | tf.Tensor1D;

/** A uniform draw in [0, 1). */
export type Rng = () => number;

/** A small seeded generator (mulberry32): the source of tf seeds across training steps. */
export const seededRng: (seed: number) => Rng = mulberry32;

const nextSeed = (rng: Rng) => Math.floor(rng() * 2 ** 31);

/**
 * The S timesteps of a DDIM pass from t0 down towards 0, evenly spaced and distinct:
 * ddimTimesteps(29, 3) = [29, 19, 9]; ddimTimesteps(t0, 1) = [t0].
 */
export function ddimTimesteps(t0: number, steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > t0 + 1) {
    throw new ModelError('MODEL_INVALID', `DDIM steps must be an integer in [1, t0 + 1 = ${t0 + 1}], got ${steps}`, { field: 'steps' });
  }
  // Spacing (t0+1)/S ≥ 1, so rounding never merges two steps.
  return Array.from({ length: steps }, (_, i) => Math.round(((t0 + 1) * (steps - i)) / steps) - 1);
}

export interface DdimStepOptions {
  /** 0: deterministic DDIM; 1: DDPM's posterior variance. Default 0. */
  eta?: number;
  /** Fresh noise `[B, L, C]`, required when eta > 0. */
  noise?: tf.Tensor3D;
}

export interface TrainingLossOptions {
  /** Source of the tf seeds for t and ε; pass the same Rng across steps. Required unless both t and noise are given. */
  rng?: Rng;
  /** Fixed timesteps `[B]` (int32) instead of uniform draws. */
  t?: tf.Tensor1D;
  /** Fixed ε `[B, L, C]` instead of a standard normal draw. */
  noise?: tf.Tensor3D;
}

export interface ReconstructOptions {
  /** Noise level to start from, 0 ≤ t0 < T: how much of the window is destroyed before denoising. */
  t0: number;
  /** DDIM steps S back to x_0, 1 ≤ S ≤ t0 + 1; S = 1 is a one-shot x̂_0 prediction. */
  steps: number;
  /** Noise draws K whose reconstructions are averaged. */
  draws: number;
  /** Seed of the draws. Default 0: the same window always gets the same score. */
  seed?: number;
  /** Fixed noise `[K, B, L, C]` instead of drawing it. */
  noise?: tf.Tensor4D;
}

export interface Reconstruction {
  /** Mean over the K draws of the DDIM estimate of x_0. `[B, L, C]` */
  reconstruction: tf.Tensor3D;
  /** (reconstruction - x_0)². `[B, L, C]` */
  sqError: tf.Tensor3D;
}

export class GaussianDiffusion {
  constructor(readonly schedule: NoiseSchedule) {}

  private checkT(t: number, field: string): void {
    if (!Number.isInteger(t) || t < 0 || t >= this.schedule.T) {
      throw new ModelError('MODEL_INVALID', `${field} must be an integer in [0, ${this.schedule.T - 1}], got ${t}`, { field });
    }
  }

  /** coef[t] shaped to broadcast over `[B, L, C]`: a scalar, or `[B, 1, 1]` for per-window t. Call inside a tidy. */
  private extract(coef: Float64Array, t: Timesteps): tf.Tensor {
    if (typeof t === 'number') {
      this.checkT(t, 't');
      return tf.scalar(coef[t]);
    }
    return tf.reshape(tf.gather(tf.tensor1d(Float32Array.from(coef)), t), [-1, 1, 1]); // [B, 1, 1]
  }

  /** x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε, a draw from q(x_t | x_0) (Ho et al. eq. 4). `[B, L, C]`; ε ~ N(0, I) (from `seed`) when not given. */
  qSample(x0: tf.Tensor3D, t: Timesteps, noise?: tf.Tensor3D, seed?: number): tf.Tensor3D {
    return tf.tidy(() => {
      const eps = noise ?? tf.randomNormal(x0.shape, 0, 1, 'float32', seed); // [B, L, C]
      const s = this.schedule;
      return tf.add(tf.mul(this.extract(s.sqrtAlphasCumprod, t), x0), tf.mul(this.extract(s.sqrtOneMinusAlphasCumprod, t), eps)) as tf.Tensor3D;
    });
  }

  /** x̂_0 = (x_t - √(1-ᾱ_t) ε) / √ᾱ_t, eq. 4 solved for x_0. `[B, L, C]` */
  predictStartFromNoise(xt: tf.Tensor3D, t: Timesteps, eps: tf.Tensor3D): tf.Tensor3D {
    const s = this.schedule;
    return tf.tidy(() => tf.sub(tf.mul(this.extract(s.sqrtRecipAlphasCumprod, t), xt), tf.mul(this.extract(s.sqrtRecipm1AlphasCumprod, t), eps)) as tf.Tensor3D);
  }

  /**
   * One DDIM step from x_t to x_{tPrev} given ε̂ (Song et al. eq. 12):
   *   x_prev = √ᾱ_prev x̂_0 + √(1 - ᾱ_prev - σ²) ε̂ + σ z,   σ = η √((1-ᾱ_prev)/(1-ᾱ_t)) √(1 - ᾱ_t/ᾱ_prev).
   * tPrev = -1 is the clean end (ᾱ_prev = 1), where the step returns x̂_0. `[B, L, C]`
   */
  ddimStep(xt: tf.Tensor3D, eps: tf.Tensor3D, t: number, tPrev: number, opts: DdimStepOptions = {}): tf.Tensor3D {
    this.checkT(t, 't');
    if (tPrev !== -1) this.checkT(tPrev, 'tPrev');
    if (tPrev >= t) throw new ModelError('MODEL_INVALID', `ddimStep must go back in time: tPrev (${tPrev}) ≥ t (${t})`, { field: 'tPrev' });
    const eta = opts.eta ?? 0;
    if (eta > 0 && !opts.noise) throw new ModelError('MODEL_INVALID', 'ddimStep with eta > 0 needs fresh noise', { field: 'noise' });
    const abar = this.schedule.alphasCumprod[t];
    const abarPrev = tPrev === -1 ? 1 : this.schedule.alphasCumprod[tPrev];
    const sigma = eta * Math.sqrt((1 - abarPrev) / (1 - abar)) * Math.sqrt(1 - abar / abarPrev);
    return tf.tidy(() => {
      const x0 = this.predictStartFromNoise(xt, t, eps); // [B, L, C]
      // max(0, ·) absorbs float rounding of 1 - ᾱ_prev - σ² at the clean end.
      let out = tf.add(tf.mul(Math.sqrt(abarPrev), x0), tf.mul(Math.sqrt(Math.max(0, 1 - abarPrev - sigma ** 2)), eps));
      if (sigma > 0) out = tf.add(out, tf.mul(sigma, opts.noise!));
      return out as tf.Tensor3D;
    });
  }

  /** A loss needs an rng unless both t and ε are fixed; `caller` names the loss in the error. */
  checkTrainingDraws(opts: TrainingLossOptions, caller: string): void {
    if (!opts.rng && !(opts.t && opts.noise)) throw new ModelError('MODEL_INVALID', `${caller} needs an rng unless both t and noise are given`, { field: 'rng' });
  }

  /** The timesteps t ~ U{0 … T-1} `[B]` and ε ~ N(0, I) `[B, L, C]` of a training step: the fixed ones, else drawn (t first) from `opts.rng`. Call inside a tidy. */
  trainingDraws(x0: tf.Tensor3D, opts: TrainingLossOptions): { t: tf.Tensor1D; noise: tf.Tensor3D } {
    const t = opts.t ?? (tf.randomUniform([x0.shape[0]], 0, this.schedule.T, 'int32', nextSeed(opts.rng!)) as tf.Tensor1D); // [B]
    const noise = opts.noise ?? (tf.randomNormal(x0.shape, 0, 1, 'float32', nextSeed(opts.rng!)) as tf.Tensor3D); // [B, L, C]
    return { t, noise };
  }

  /**
   * L_simple = E_{t, ε} ‖ε - ε_θ(√ᾱ_t x_0 + √(1-ᾱ_t) ε, t)‖², t ~ U{0 … T-1} (Ho et al. eq. 14),
   * as a scalar mean over every element; use it inside `optimizer.minimize(() => ...)`.
   */
  trainingLoss(model: EpsModel, x0: tf.Tensor3D, opts: TrainingLossOptions): tf.Scalar {
    this.checkTrainingDraws(opts, 'trainingLoss');
    return tf.tidy(() => {
      const { t, noise } = this.trainingDraws(x0, opts);
      const xt = this.qSample(x0, t, noise); // [B, L, C]
      return tf.mean(tf.squaredDifference(noise, model.apply(xt, t))) as tf.Scalar;
    });
  }

  /**
   * Noise x_0 to t0 with K independent draws, run S deterministic DDIM steps back to x_0,
   * average the K estimates. The K draws go through the network as one batch of K·B windows.
   */
  reconstruct(model: EpsModel, x0: tf.Tensor3D, opts: ReconstructOptions): Reconstruction {
    const { t0, steps, draws } = opts;
    this.checkT(t0, 't0');
    const timesteps = ddimTimesteps(t0, steps);
    if (!Number.isInteger(draws) || draws < 1) throw new ModelError('MODEL_INVALID', `draws must be a positive integer, got ${draws}`, { field: 'draws' });
    const [batch, len, channels] = x0.shape;
    const kb = draws * batch;
    if (opts.noise && opts.noise.size !== kb * len * channels) {
      throw new ModelError('MODEL_MISMATCH', `reconstruct noise must be [${draws}, ${batch}, ${len}, ${channels}], got [${opts.noise.shape}]`, { field: 'noise' });
    }
    return tf.tidy(() => {
      const xs = repeatBatch(x0, draws); // [K·B, L, C], draw-major
      const noise = opts.noise ? tf.reshape(opts.noise, [kb, len, channels]) : tf.randomNormal([kb, len, channels], 0, 1, 'float32', opts.seed ?? 0); // [K·B, L, C]
      let x = this.qSample(xs, t0, noise as tf.Tensor3D); // [K·B, L, C]
      timesteps.forEach((t, i) => {
        const eps = model.apply(x, tf.fill([kb], t, 'int32') as tf.Tensor1D); // [K·B, L, C]
        x = this.ddimStep(x, eps, t, i + 1 < timesteps.length ? timesteps[i + 1] : -1); // [K·B, L, C]
      });
      const reconstruction = tf.mean(tf.reshape(x, [draws, batch, len, channels]), 0) as tf.Tensor3D; // [B, L, C]
      return { reconstruction, sqError: tf.squaredDifference(reconstruction, x0) as tf.Tensor3D };
    });
  }
}
