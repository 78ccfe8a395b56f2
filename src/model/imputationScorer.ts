/**
 * One chunk of windows scored by imputation (see imputation.ts): the newest point of every
 * target channel is generated K times from the window before it, and the observed value is
 * scored by its predictive NLL; conditioning channels add their novelty term (imputationSpec.ts).
 * windowScorer.ts turns the per-channel evidence into point and window scores.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImputationScoring, TrainedModel } from './checkpoint.ts';
import { leftReach } from './denoiser.ts';
import { impute, predictiveNll } from './imputation.ts';
import { noveltyTerms } from './imputationSpec.ts';
import { newestPointMask } from './trainingObjective.ts';

export interface ImputedChunk {
  /** Evidence of the newest point per channel: NLL for targets, novelty for the others. `[b, C]` */
  evidence: Float64Array;
  /** Mean of the draws at the newest point, scaled units (the observed value for non-targets). `[b, C]` */
  mean: Float32Array;
}

/**
 * @param z normalised windows `[b, L, C]`
 * @param raw the same windows in raw units `[b, L, C]`, for the novelty of conditioning channels
 * @param noise the model's scoring noise `[K, 1, L, C]`, the same for every window (common random numbers)
 * @param scale the scaler's scale per channel, to measure novelty in scaled units
 */
export function imputeChunk(model: TrainedModel, imp: ImputationScoring, z: Float32Array, raw: ArrayLike<number>, b: number, noise: Float32Array, scale: readonly number[]): ImputedChunk {
  const { windowLength: L, channels } = model.manifest;
  const C = channels.length;
  // Only the last R points can reach the newest one through the net, so the rest is not computed:
  // the same scores at L/R of the cost (2x for L = 32 with the NAB net, 4x for the default L = 64).
  const R = Math.min(L, leftReach(model.denoiser.args) + 1);
  const { nll, mean } = tf.tidy(() => {
    const x0 = tf.slice(tf.tensor3d(z, [b, L, C]), [0, L - R, 0], [b, R, C]) as tf.Tensor3D; // [b, R, C]
    const mask = tf.tensor3d(newestPointMask(b, R, imp.targets), [b, R, C]); // [b, R, C]
    const draws = tf.slice(tf.tensor4d(noise, [imp.draws, 1, L, C]), [0, 0, L - R, 0], [imp.draws, 1, R, C]); // [K, 1, R, C]
    const eps = tf.reshape(tf.tile(draws, [1, b, 1, 1]), [imp.draws * b, R, C]) as tf.Tensor3D; // [K·b, R, C]
    const samples = impute(model.diffusion, model.denoiser, x0, mask, { steps: imp.steps, draws: imp.draws, noise: eps }); // [K, b, L, C]
    const p = predictiveNll(samples, x0, mask, imp.sigmaFloor);
    const newest = (t: tf.Tensor3D) => tf.reshape(tf.slice(t, [0, R - 1, 0], [b, 1, C]), [b, C]).dataSync() as Float32Array; // [b, C]
    return { nll: newest(p.nll), mean: newest(p.mean) };
  });
  const evidence = Float64Array.from(nll);
  const row = new Float64Array(C);
  for (let w = 0; w < b; w++) {
    for (let c = 0; c < C; c++) row[c] = raw[(w * L + L - 1) * C + c];
    const terms = noveltyTerms(row, imp, scale);
    for (let c = 0; c < C; c++) if (!imp.targets[c]) evidence[w * C + c] = terms[c];
  }
  return { evidence, mean };
}
