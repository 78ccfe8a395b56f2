/**
 * What a training step minimises, apart from the loop that minimises it (trainer.ts):
 *
 * - `denoising`: L_simple over the whole window (Ho et al. eq. 14), for the reconstruction scorer;
 * - `imputation`: L_simple over masked targets only, the rest given as conditioning (imputation.ts).
 *   Each training window's mask is, with probability `fullMaskRate`, every point of the target
 *   channels (the model also learns the unconditional shape of a window), and otherwise its newest
 *   h points, h uniform in 1…`imputeLength` (scoring asks for the newest point; longer targets give
 *   more gradient per window and teach the model to continue a pattern).
 *
 * Non-target channels (binary commands, constants) are never masked: the model always sees them,
 * so it learns the response to a command rather than to predict the command.
 */
import * as tf from '@tensorflow/tfjs';
import type { Denoiser } from './denoiser.ts';
import { seededRng, type GaussianDiffusion, type Rng } from './diffusion.ts';
import { imputationLoss, readIndices } from './imputation.ts';

/** Fixed draws for a comparable validation loss, or an rng for training draws. */
export type LossDraws = { rng: Rng } | { t: tf.Tensor1D; noise: tf.Tensor3D; maskSeed: number };

/** `calendar` `[B, L, 4]`: the windows' calendar features, for a model that takes them. */
export type TrainingObjective = (net: Denoiser, diffusion: GaussianDiffusion, x0: tf.Tensor3D, draws: LossDraws, calendar?: tf.Tensor3D) => tf.Scalar;

export const denoisingObjective: TrainingObjective = (net, diffusion, x0, draws) =>
  diffusion.trainingLoss(net, x0, 'rng' in draws ? { rng: draws.rng } : { t: draws.t, noise: draws.noise });

export interface ImputationMaskSpec {
  /** Per channel: true where the channel is generated (analogue), false where it only conditions. */
  targets: readonly boolean[];
  imputeLength: number;
  fullMaskRate: number;
  /** Per channel, whether the net reads it (conditioningRelation.ts); all when absent. */
  reads?: readonly boolean[];
}

/** Masks `[B, L, C]` for one batch, drawn from `rng` (see the file comment). */
export function sampleMasks(b: number, L: number, spec: ImputationMaskSpec, rng: Rng): Float32Array {
  const C = spec.targets.length;
  const out = new Float32Array(b * L * C);
  for (let w = 0; w < b; w++) {
    const h = rng() < spec.fullMaskRate ? L : 1 + Math.floor(rng() * Math.min(spec.imputeLength, L));
    for (let i = L - h; i < L; i++) for (let c = 0; c < C; c++) out[(w * L + i) * C + c] = spec.targets[c] ? 1 : 0;
  }
  return out;
}

/** The mask scoring uses: the newest point of every target channel. `[B, L, C]` */
export function newestPointMask(b: number, L: number, targets: readonly boolean[]): Float32Array {
  const C = targets.length;
  const out = new Float32Array(b * L * C);
  for (let w = 0; w < b; w++) for (let c = 0; c < C; c++) out[(w * L + L - 1) * C + c] = targets[c] ? 1 : 0;
  return out;
}

export function imputationObjective(spec: ImputationMaskSpec): TrainingObjective {
  const reads = readIndices(spec.reads);
  return (net, diffusion, x0, draws, calendar) =>
    tf.tidy(() => {
      const [b, L, C] = x0.shape;
      const rng = 'rng' in draws ? draws.rng : seededRng(draws.maskSeed);
      const mask = tf.tensor3d(sampleMasks(b, L, spec, rng), [b, L, C]); // [B, L, C]
      return imputationLoss(diffusion, net, x0, mask, { ...('rng' in draws ? { rng: draws.rng } : { t: draws.t, noise: draws.noise }), calendar, reads });
    });
}
