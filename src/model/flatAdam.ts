/**
 * Adam (Kingma & Ba 2015) over all of a net's variables as one flat vector: the update of
 * `tf.train.adam`, element for element and in its order of operations, so its weights are the
 * same to the bit, in a fixed number of kernels instead of about twenty per variable. Training the
 * small denoiser on tfjs-node is bound by kernels per step, not by arithmetic (docs/benchmarks.md,
 * "What limits it"), and with 32 variables Adam's per-variable updates were most of them.
 *
 *   g   = every variable's gradient, flattened and concatenated in `vars` order          [P]
 *   m  ← β1·m + (1 − β1)·g
 *   v  ← β2·v + (1 − β2)·g²
 *   θ  ← −lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε) + θ
 *   β1ᵗ, β2ᵗ float32 variables multiplied by β1, β2 after each step (as tf.train.adam keeps them)
 *
 * A variable the loss does not reach gets a zero gradient: with m = v = 0 its update is 0, the
 * same as tf.train.adam skipping it.
 */
import * as tf from '@tensorflow/tfjs';

export class FlatAdam {
  private readonly m: tf.Variable; // [P]
  private readonly v: tf.Variable; // [P]
  private readonly accBeta1: tf.Variable;
  private readonly accBeta2: tf.Variable;
  private readonly sizes: number[];
  private readonly constants: Record<'beta1' | 'beta2' | 'gain1' | 'gain2' | 'one' | 'epsilon' | 'negLr', tf.Scalar>;

  constructor(
    private readonly vars: readonly tf.Variable[],
    learningRate: number,
    beta1 = 0.9,
    beta2 = 0.999,
  ) {
    this.sizes = vars.map((x) => x.size);
    const P = this.sizes.reduce((a, n) => a + n, 0);
    // In a tidy, as tf.train.adam makes its own: the variables outlive it, their initial values do not.
    [this.m, this.v, this.accBeta1, this.accBeta2] = tf.tidy(() => [tf.zeros([P]), tf.zeros([P]), tf.scalar(beta1), tf.scalar(beta2)].map((t) => tf.variable(t, false)));
    // The scalars tf.train.adam makes from the same numbers on every call.
    this.constants = {
      beta1: tf.scalar(beta1),
      beta2: tf.scalar(beta2),
      gain1: tf.scalar(1 - beta1),
      gain2: tf.scalar(1 - beta2),
      one: tf.scalar(1),
      epsilon: tf.scalar(tf.backend().epsilon()),
      negLr: tf.scalar(-learningRate),
    };
  }

  /** One step on the loss `f`; returns the loss before the step (the caller owns it). */
  minimize(f: () => tf.Scalar): tf.Scalar {
    const { value, grads } = tf.variableGrads(f, [...this.vars]);
    tf.tidy(() => this.apply(this.vars.map((x) => grads[x.name] ?? tf.zerosLike(x))));
    tf.dispose(grads);
    return value;
  }

  private apply(gradients: tf.Tensor[]): void {
    const k = this.constants;
    const g = tf.concat(gradients.map((t) => tf.reshape(t, [-1]))); // [P]
    const oneMinusAccBeta1 = tf.sub(k.one, this.accBeta1);
    const oneMinusAccBeta2 = tf.sub(k.one, this.accBeta2);
    const m = tf.add(tf.mul(this.m, k.beta1), tf.mul(g, k.gain1));
    const v = tf.add(tf.mul(this.v, k.beta2), tf.mul(tf.square(g), k.gain2));
    const mHat = tf.div(m, oneMinusAccBeta1);
    const vHat = tf.div(v, oneMinusAccBeta2);
    this.m.assign(m);
    this.v.assign(v);
    const theta = tf.concat(this.vars.map((x) => tf.reshape(x, [-1]))); // [P]
    const next = tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), k.epsilon)), k.negLr), theta);
    tf.split(next, this.sizes).forEach((part, i) => this.vars[i].assign(tf.reshape(part, this.vars[i].shape)));
    this.accBeta1.assign(tf.mul(this.accBeta1, k.beta1));
    this.accBeta2.assign(tf.mul(this.accBeta2, k.beta2));
  }

  dispose(): void {
    tf.dispose([this.m, this.v, this.accBeta1, this.accBeta2, ...Object.values(this.constants)]);
  }
}
