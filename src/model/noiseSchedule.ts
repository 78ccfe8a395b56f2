/**
 * The forward-process noise schedule of a Gaussian diffusion model, as plain data.
 *
 * Everything here is a `Float64Array` of length T indexed by timestep t = 0 … T-1
 * (t = 0 is the first, least noisy step), with the names of improved-diffusion's
 * `gaussian_diffusion.py` in camelCase. There is deliberately no tf import: the schedule
 * is tested numerically and serialised through its `args` alone (the arrays are a pure
 * function of them).
 *
 * Example:
 *   const s = makeNoiseSchedule({ kind: 'cosine', T: 100 });
 *   s.sqrtAlphasCumprod[30]; // the signal scale of x_30
 *   makeNoiseSchedule(JSON.parse(JSON.stringify(s.args))); // the same schedule
 *
 * Sources: Ho et al. 2020, "Denoising Diffusion Probabilistic Models" (eq. 4, 6, 7);
 * Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models" (eq. 17);
 * https://github.com/openai/improved-diffusion/blob/main/improved_diffusion/gaussian_diffusion.py
 */
import { ModelError } from '../errors.ts';

export type NoiseScheduleKind = 'linear' | 'cosine';

export interface NoiseScheduleArgs {
  kind: NoiseScheduleKind;
  /** Number of diffusion steps. */
  T: number;
  /** Linear only: β of the first step. Default 1e-4 · 1000/T (improved-diffusion's scaling keeps the end-to-end noise independent of T). */
  betaStart?: number;
  /** Linear only: β of the last step. Default 0.02 · 1000/T. */
  betaEnd?: number;
  /** Cosine only: the offset s of Nichol & Dhariwal eq. 17, which keeps β_0 from being vanishingly small. Default 0.008. */
  s?: number;
}

/** The arguments with every default filled in: what a checkpoint manifest stores. */
export type ResolvedNoiseScheduleArgs =
  | { kind: 'linear'; T: number; betaStart: number; betaEnd: number }
  | { kind: 'cosine'; T: number; s: number };

export interface NoiseSchedule {
  readonly args: ResolvedNoiseScheduleArgs;
  readonly T: number;
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  /** ᾱ_t = ∏_{i ≤ t} α_i. */
  readonly alphasCumprod: Float64Array;
  /** ᾱ_{t-1}, with ᾱ_{-1} = 1. */
  readonly alphasCumprodPrev: Float64Array;
  readonly sqrtAlphasCumprod: Float64Array;
  readonly sqrtOneMinusAlphasCumprod: Float64Array;
  readonly sqrtRecipAlphasCumprod: Float64Array;
  readonly sqrtRecipm1AlphasCumprod: Float64Array;
  /** β̃_t of q(x_{t-1} | x_t, x_0), Ho et al. eq. 7. */
  readonly posteriorVariance: Float64Array;
  /** log β̃_t, with β̃_0 (which is 0) replaced by β̃_1 so that the log stays finite. */
  readonly posteriorLogVarianceClipped: Float64Array;
  /** μ̃_t = coef1 · x_0 + coef2 · x_t, Ho et al. eq. 7. */
  readonly posteriorMeanCoef1: Float64Array;
  readonly posteriorMeanCoef2: Float64Array;
}

/** The cosine ᾱ reaches 0 at t = T, which would make the last β equal 1 and 1/ᾱ infinite; Nichol & Dhariwal clip β at 0.999. */
const MAX_BETA = 0.999;

function invalid(field: string, message: string): ModelError {
  return new ModelError('MODEL_INVALID', `noise schedule ${field}: ${message}`, { field });
}

export function resolveNoiseScheduleArgs(args: NoiseScheduleArgs): ResolvedNoiseScheduleArgs {
  const { kind, T } = args;
  if (!Number.isInteger(T) || T < 1) throw invalid('T', `must be a positive integer, got ${T}`);
  if (kind === 'linear') {
    const scale = 1000 / T;
    const betaStart = args.betaStart ?? scale * 1e-4;
    const betaEnd = args.betaEnd ?? scale * 0.02;
    for (const [field, v] of [['betaStart', betaStart], ['betaEnd', betaEnd]] as const) {
      if (!(v > 0 && v < 1)) throw invalid(field, `must lie in (0, 1), got ${v}; for a small T pass betaEnd explicitly`);
    }
    if (betaEnd < betaStart) throw invalid('betaEnd', `must be ≥ betaStart (${betaStart}), got ${betaEnd}`);
    return { kind, T, betaStart, betaEnd };
  }
  if (kind === 'cosine') {
    const s = args.s ?? 0.008;
    if (!(s >= 0)) throw invalid('s', `must be ≥ 0, got ${s}`);
    return { kind, T, s };
  }
  throw invalid('kind', `must be 'linear' or 'cosine', got ${JSON.stringify(kind)}`);
}

function makeBetas(args: ResolvedNoiseScheduleArgs): Float64Array {
  const { T } = args;
  const betas = new Float64Array(T);
  if (args.kind === 'linear') {
    // np.linspace(betaStart, betaEnd, T)
    for (let t = 0; t < T; t++) betas[t] = T === 1 ? args.betaStart : args.betaStart + ((args.betaEnd - args.betaStart) * t) / (T - 1);
    return betas;
  }
  // ᾱ(u) = cos²((u + s)/(1 + s) · π/2); β_t = 1 - ᾱ((t+1)/T) / ᾱ(t/T)  (improved-diffusion betas_for_alpha_bar)
  const alphaBar = (u: number) => Math.cos(((u + args.s) / (1 + args.s)) * (Math.PI / 2)) ** 2;
  for (let t = 0; t < T; t++) betas[t] = Math.min(1 - alphaBar((t + 1) / T) / alphaBar(t / T), MAX_BETA);
  return betas;
}

/** Build the schedule and every derived coefficient. Throws `ModelError('MODEL_INVALID')` on a bad argument. */
export function makeNoiseSchedule(input: NoiseScheduleArgs): NoiseSchedule {
  const args = resolveNoiseScheduleArgs(input);
  const { T } = args;
  const betas = makeBetas(args);
  const map = (f: (t: number) => number) => Float64Array.from({ length: T }, (_, t) => f(t));

  const alphas = map((t) => 1 - betas[t]);
  const alphasCumprod = new Float64Array(T);
  let prod = 1;
  for (let t = 0; t < T; t++) alphasCumprod[t] = prod *= alphas[t];
  const alphasCumprodPrev = map((t) => (t === 0 ? 1 : alphasCumprod[t - 1]));
  const posteriorVariance = map((t) => (betas[t] * (1 - alphasCumprodPrev[t])) / (1 - alphasCumprod[t]));

  return {
    args,
    T,
    betas,
    alphas,
    alphasCumprod,
    alphasCumprodPrev,
    sqrtAlphasCumprod: map((t) => Math.sqrt(alphasCumprod[t])),
    sqrtOneMinusAlphasCumprod: map((t) => Math.sqrt(1 - alphasCumprod[t])),
    sqrtRecipAlphasCumprod: map((t) => Math.sqrt(1 / alphasCumprod[t])),
    sqrtRecipm1AlphasCumprod: map((t) => Math.sqrt(1 / alphasCumprod[t] - 1)),
    posteriorVariance,
    // With T = 1 there is no β̃_1 to borrow; log β_0 is the natural stand-in (β̃_0 would be 0).
    posteriorLogVarianceClipped: map((t) => Math.log(t === 0 ? (T > 1 ? posteriorVariance[1] : betas[0]) : posteriorVariance[t])),
    posteriorMeanCoef1: map((t) => (betas[t] * Math.sqrt(alphasCumprodPrev[t])) / (1 - alphasCumprod[t])),
    posteriorMeanCoef2: map((t) => ((1 - alphasCumprodPrev[t]) * Math.sqrt(alphas[t])) / (1 - alphasCumprod[t])),
  };
}
