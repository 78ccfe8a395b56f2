/**
 * An exponential moving average of the denoiser's weights (Polyak averaging), the weights that
 * diffusion models are evaluated and sampled with (Ho et al. 2020 keep an EMA at 0.9999;
 * improved-diffusion's `ema_rate`). A single Adam iterate of a small net trained on a few hundred
 * windows carries the noise of its last steps; the average over the recent steps does not, so the
 * validation loss that early stopping reads, and the model that is kept, depend less on where the
 * last step happened to land.
 *
 * Few steps are taken here (a NAB file: about 10 per epoch), so the decay warms up as in
 * `tf.train.ExponentialMovingAverage` with `num_updates`: d_n = min(decay, (1 + n) / (10 + n)).
 * Early on the average follows the weights closely; later it spans about 1 / (1 − decay) steps.
 *
 * @example
 * const avg = new WeightAverage(net, 0.99);
 * // after each optimizer step:
 * avg.update();
 * const val = avg.apply(() => validationLoss(net, ...));   // evaluated on the averaged weights
 * const kept = avg.snapshot();                              // a copy to keep; the caller disposes it
 * avg.dispose();
 */
import * as tf from '@tensorflow/tfjs';
import type { Denoiser } from './denoiser.ts';

export class WeightAverage {
  private average: tf.NamedTensorMap;
  private updates = 0;

  constructor(
    private readonly net: Denoiser,
    private readonly decay: number,
  ) {
    this.average = copyOf(net.getWeights());
  }

  /** Moves the average towards the net's current weights. */
  update(): void {
    this.updates++;
    const d = Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
    const live = this.net.getWeights();
    const next = tf.tidy(() => Object.fromEntries(Object.entries(this.average).map(([k, a]) => [k, tf.add(tf.mul(a, d), tf.mul(live[k], 1 - d))])));
    tf.dispose(this.average);
    this.average = next;
  }

  /** Runs `fn` with the averaged weights in the net, then puts the trained ones back. */
  apply<T>(fn: () => T): T {
    const live = copyOf(this.net.getWeights());
    this.net.setWeights(this.average);
    try {
      return fn();
    } finally {
      this.net.setWeights(live);
      tf.dispose(live);
    }
  }

  /** A copy of the averaged weights, owned by the caller. */
  snapshot(): tf.NamedTensorMap {
    return copyOf(this.average);
  }

  dispose(): void {
    tf.dispose(this.average);
  }
}

const copyOf = (weights: tf.NamedTensorMap): tf.NamedTensorMap => Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, tf.clone(v)]));
