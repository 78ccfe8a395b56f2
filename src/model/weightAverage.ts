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

/**
 * The average is one flat vector over the weights in `getWeights()` order: an update is three
 * kernels and a concatenation, not three per weight (the same numbers, element for element; the
 * small net's training is bound by kernels per step, as in flatAdam.ts).
 */
export class WeightAverage {
  private average: tf.Tensor1D; // [P]
  private updates = 0;
  private readonly names: string[];
  private readonly shapes: number[][];

  constructor(
    private readonly net: Denoiser,
    private readonly decay: number,
  ) {
    const weights = net.getWeights();
    this.names = Object.keys(weights);
    this.shapes = this.names.map((k) => weights[k].shape);
    this.average = flatten(weights, this.names);
  }

  /** Moves the average towards the net's current weights. */
  update(): void {
    this.updates++;
    const d = Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
    const next = tf.tidy(() => tf.add(tf.mul(this.average, d), tf.mul(flatten(this.net.getWeights(), this.names), 1 - d)) as tf.Tensor1D);
    this.average.dispose();
    this.average = next;
  }

  /** Runs `fn` with the averaged weights in the net, then puts the trained ones back. */
  apply<T>(fn: () => T): T {
    const live = copyOf(this.net.getWeights());
    const averaged = this.snapshot();
    this.net.setWeights(averaged);
    tf.dispose(averaged);
    try {
      return fn();
    } finally {
      this.net.setWeights(live);
      tf.dispose(live);
    }
  }

  /** A copy of the averaged weights, owned by the caller. */
  snapshot(): tf.NamedTensorMap {
    return tf.tidy(() => {
      const parts = tf.split(this.average, this.shapes.map((s) => s.reduce((a, n) => a * n, 1)));
      return Object.fromEntries(this.names.map((k, i) => [k, tf.reshape(parts[i], this.shapes[i])]));
    });
  }

  dispose(): void {
    this.average.dispose();
  }
}

/** The weights named `names`, flattened and concatenated in that order. `[P]` */
const flatten = (weights: tf.NamedTensorMap, names: readonly string[]): tf.Tensor1D => tf.tidy(() => tf.concat(names.map((k) => tf.reshape(weights[k], [-1]))) as tf.Tensor1D);

const copyOf = (weights: tf.NamedTensorMap): tf.NamedTensorMap => Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, tf.clone(v)]));
