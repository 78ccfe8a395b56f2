/**
 * A grouped denoiser's G nets as one net of width G·w whose weights are block-diagonal: group i's
 * weights fill block i, zeros the rest, so nothing of one group reaches another's channels and the
 * outputs are the separate nets' (up to the order of float sums, since the zero blocks join each
 * sum). One kernel call per layer instead of G.
 *
 * Why: each scoring call runs the net a few times, and a grouped net runs every layer once per
 * group. On tfjs-node a kernel call costs tens of microseconds whatever its size, so a call of a
 * few windows (a live stream) is all call overhead: 8 groups took 92 ms for one window. The price
 * is G times the multiply-adds of the hidden convolutions, which wins where calls are dear and
 * loses where arithmetic is (wasm at large batches): docs/benchmarks.md, "The groups' nets as one
 * set of kernel calls".
 *
 * Layout of the fused net (E the embedding size, w the groups' width, in_i group i's inputs):
 *   inProj            [K, Σ in_i, G·w]     block i: rows of group i's inputs, columns i·w…
 *   timeEmbed/dense1  [E, G·E]             side by side: every group reads the same embedding
 *   timeEmbed/dense2  [G·E, G·E]           block-diagonal
 *   block<i>/time      [G·E, G·w]           block-diagonal
 *   block<i>/conv1, 2  [K, G·w, G·w]        block-diagonal
 *   outProj           [1, G·w, Σ|g|]       block-diagonal; columns in group order, as the
 *                                          separate nets' outputs side by side
 * Biases are the groups' biases one after another.
 */
import * as tf from '@tensorflow/tfjs';

/** A weight's values and shape, read once from the backend. */
interface Plain {
  values: Float32Array;
  shape: number[];
}

/** Places `parts` (each `[K, r_i, c_i]`, or `[r_i, c_i]` with K = 1) along the diagonal: `[K, Σr, Σc]`. */
export function blockDiagonal(parts: readonly Plain[]): Plain {
  const three = parts[0].shape.length === 3;
  const K = three ? parts[0].shape[0] : 1;
  const dims = parts.map((p) => (three ? p.shape.slice(1) : p.shape));
  const R = dims.reduce((n, d) => n + d[0], 0);
  const C = dims.reduce((n, d) => n + d[1], 0);
  const out = new Float32Array(K * R * C);
  let r0 = 0;
  let c0 = 0;
  parts.forEach((p, i) => {
    const [r, c] = dims[i];
    for (let k = 0; k < K; k++) {
      for (let a = 0; a < r; a++) out.set(p.values.subarray((k * r + a) * c, (k * r + a + 1) * c), (k * R + r0 + a) * C + c0);
    }
    r0 += r;
    c0 += c;
  });
  return { values: out, shape: three ? [K, R, C] : [R, C] };
}

/** Places `parts` (each `[r, c_i]`, or `[c_i]`) side by side: `[r, Σc]` (or `[Σc]`). */
export function sideBySide(parts: readonly Plain[]): Plain {
  if (parts[0].shape.length === 1) {
    const out = new Float32Array(parts.reduce((n, p) => n + p.values.length, 0));
    let at = 0;
    for (const p of parts) out.set(p.values, (at += p.values.length) - p.values.length);
    return { values: out, shape: [out.length] };
  }
  const r = parts[0].shape[0];
  const C = parts.reduce((n, p) => n + p.shape[1], 0);
  const out = new Float32Array(r * C);
  let c0 = 0;
  for (const p of parts) {
    const c = p.shape[1];
    for (let a = 0; a < r; a++) out.set(p.values.subarray(a * c, (a + 1) * c), a * C + c0);
    c0 += c;
  }
  return { values: out, shape: [r, C] };
}

/**
 * The fused net's weights under the plain (ungrouped) names, from the G groups' weights named
 * `g<i>/…`. The caller owns the returned tensors.
 */
export function blockDiagonalWeights(weights: Readonly<Record<string, tf.Tensor>>, groups: number): Record<string, tf.Tensor> {
  const read = (t: tf.Tensor): Plain => ({ values: t.dataSync() as Float32Array, shape: t.shape });
  const out: Record<string, tf.Tensor> = {};
  for (const name of Object.keys(weights).filter((n) => n.startsWith('g0/')).map((n) => n.slice(3))) {
    const parts = Array.from({ length: groups }, (_, i) => read(weights[`g${i}/${name}`]));
    // Every group's embedding layer reads the same embedding, so those inputs are shared; a bias has none.
    const p = name === 'timeEmbed/dense1/kernel' || name.endsWith('/bias') ? sideBySide(parts) : blockDiagonal(parts);
    out[name] = tf.tensor(p.values, p.shape, 'float32');
  }
  return out;
}
