/**
 * Sinusoidal embedding of integer diffusion timesteps, as improved-diffusion's
 * `timestep_embedding` (itself the Transformer position encoding, Vaswani et al. 2017 §3.5):
 *
 *   freq_i = maxPeriod^(-i / half),  i = 0 … half-1,  half = floor(dim / 2)
 *   emb(t) = [cos(t · freq_0 … t · freq_{half-1}), sin(t · freq_0 … ), 0 if dim is odd]
 *
 * https://github.com/openai/improved-diffusion/blob/main/improved_diffusion/nn.py
 *
 * Example: timestepEmbedding(tf.tensor1d([0, 5], 'int32'), 32) // [2, 32]
 */
import * as tf from '@tensorflow/tfjs';

/** The frequencies, shared with tests: `half` values from 1 down to ~1/maxPeriod. */
export function timestepFrequencies(dim: number, maxPeriod = 10_000): Float32Array {
  const half = Math.floor(dim / 2);
  return Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(maxPeriod) * i) / half));
}

/**
 * @param t timesteps `[B]` (int32 or float32)
 * @param dim embedding size E
 * @returns `[B, E]`
 */
export function timestepEmbedding(t: tf.Tensor1D, dim: number, maxPeriod = 10_000): tf.Tensor2D {
  return tf.tidy(() => {
    const freqs = tf.tensor2d(timestepFrequencies(dim, maxPeriod), [1, Math.floor(dim / 2)]); // [1, half]
    const args = tf.mul(tf.reshape(tf.cast(t, 'float32'), [-1, 1]), freqs); // [B, half]
    const parts = [tf.cos(args), tf.sin(args)]; // 2 × [B, half]
    if (dim % 2 === 1) parts.push(tf.zeros([t.shape[0], 1])); // [B, 1]
    return tf.concat(parts, 1) as tf.Tensor2D; // [B, E]
  });
}
