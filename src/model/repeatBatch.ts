/**
 * Copies of a batch, without `tf.tile`. On wasm, Tile walks every element in JavaScript: tiling
 * 512 windows of 32 × 28 four times took 197 ms, where a concat of the same four references along
 * the batch (contiguous blocks) took 5 ms, and broadcasting the scoring noise over 512 windows by
 * a multiply took 6 ms against Tile's 105 ms; the values are the same to the bit
 * (docs/benchmarks.md, "Tile on wasm").
 */
import * as tf from '@tensorflow/tfjs';

/** n copies of x one after the other along the batch: `[B, …]` → `[n·B, …]`, as tf.tile(x, [n, 1, …]). */
export function repeatBatch<T extends tf.Tensor>(x: T, n: number): T {
  return (n === 1 ? x : tf.concat(Array.from({ length: n }, () => x), 0)) as T;
}

/** x `[K, 1, …]` repeated n times along axis 1: `[K, n, …]`, as tf.tile(x, [1, n, 1, …]). */
export function broadcastAxis1<T extends tf.Tensor>(x: T, n: number): T {
  const shape = x.shape.map((d, i) => (i === 1 ? n : 1));
  return (n === 1 ? x : tf.mul(x, tf.ones(shape))) as T;
}
