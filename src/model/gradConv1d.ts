/**
 * A 1-D convolution, channels-last, whose gradient is written out with forward convolutions
 * only, so that it trains on every backend and at every dilation.
 *
 * Why: `tf.conv1d` has no gradient on wasm (no Conv2DBackpropFilter kernel,
 * tensorflow/tfjs#8474), and tfjs-core's conv gradient rejects dilation > 1 on every backend.
 * unfoldConv1d.ts works around both with slices, a concat and one matMul; on wasm those slices
 * and the concat run in JavaScript, row by row, and took about a third of a training step
 * (docs/benchmarks.md, "Training"). Here the forward pass is the backend's own convolution
 * kernel, and so are both halves of the gradient:
 *
 *   y      = conv(pad(x), w, dilation d) + b                         `[B, L, Cout]`
 *   ∂x     = conv(pad'(∂y), w⁺, dilation d)                          `[B, L, Cin]`
 *            w⁺[j] = w[K-1-j]ᵀ (the kernel reversed in time, in and out swapped); pad' puts
 *            the padding on the other side, so the output has length L with no slice
 *   ∂w     = conv(pad(x)ᵀ, ∂yᵀ, stride d)ᵀ                           `[K, Cin, Cout]`
 *            ∂w[j, c, o] = Σ_{b,i} pad(x)[b, i + j·d, c] ∂y[b, i, o]: the batch becomes the
 *            channel axis and ∂y the kernel, whose K outputs lie d apart
 *   ∂b     = Σ_{b,i} ∂y[b, i, :]                                     `[Cout]`
 *
 * Numerically it equals unfoldConv1d (and tf.conv1d) up to the order of float sums.
 *
 * Example:
 *   const y = gradConv1d(x, w, b, { dilation: 2, padding: 'causal' }); // [B, L, Cout]
 */
import * as tf from '@tensorflow/tfjs';
import { convPadding, type UnfoldConv1dOptions } from './unfoldConv1d.ts';

/** Pad along time only. `[B, L, C]` → `[B, before + L + after, C]` */
const padTime = (x: tf.Tensor3D, before: number, after: number): tf.Tensor3D =>
  before + after > 0 ? (tf.pad(x, [[0, 0], [before, after], [0, 0]]) as tf.Tensor3D) : x;

/**
 * @param x input `[B, L, Cin]`
 * @param w kernel `[K, Cin, Cout]` (tf.conv1d's layout)
 * @param b bias `[Cout]`
 * @returns `[B, L, Cout]`
 */
export function gradConv1d(x: tf.Tensor3D, w: tf.Tensor3D, b: tf.Tensor1D, opts: UnfoldConv1dOptions = {}): tf.Tensor3D {
  const dilation = opts.dilation ?? 1;
  const [before, after] = convPadding(w.shape[0], dilation, opts.padding ?? 'same');
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, ws, bs] = args as [tf.Tensor3D, tf.Tensor3D, tf.Tensor1D];
    const save = args[3] as tf.GradSaveFunc;
    save([xs, ws]);
    return {
      value: convWithBias(xs, ws, bs, dilation, before, after), // [B, L, Cout]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xSaved, wSaved] = saved as [tf.Tensor3D, tf.Tensor3D];
        const xp = padTime(xSaved, before, after); // [B, L + (K-1)·d, Cin]
        return [inputGrad(dy as tf.Tensor3D, wSaved, dilation, before, after), kernelGrad(dy as tf.Tensor3D, xp, dilation), tf.sum(dy, [0, 1])];
      },
    };
  });
  return op(x, w, b) as tf.Tensor3D;
}

/**
 * conv(pad(x), w) + b as one fused kernel call, `[B, L, Cout]`. Centred padding (before = after,
 * or TF's 'same' split) is the convolution's own 'same', so no padded copy of x is made; causal
 * padding is explicit. A conv and a pad and an add per layer were three calls and two copies of
 * the activations: one call scores 1.1-1.3× faster on wasm (docs/benchmarks.md, "With channel
 * groups").
 */
function convWithBias(x: tf.Tensor3D, w: tf.Tensor3D, b: tf.Tensor1D, dilation: number, before: number, after: number): tf.Tensor3D {
  const [batch, len] = x.shape;
  const same = before === Math.floor((before + after) / 2);
  const xp = same ? x : padTime(x, before, after);
  const x4 = tf.reshape(xp, [batch, 1, xp.shape[1], xp.shape[2]]) as tf.Tensor4D; // [B, 1, L', Cin]
  const w4 = tf.reshape(w, [1, ...w.shape]) as tf.Tensor4D; // [1, K, Cin, Cout]
  const y = tf.fused.conv2d({ x: x4, filter: w4, bias: b, strides: 1, pad: same ? 'same' : 'valid', dilations: [1, dilation] });
  return tf.reshape(y, [batch, len, w.shape[2]]); // [B, L, Cout]
}

/** ∂x `[B, L, Cin]` from ∂y `[B, L, Cout]`: a convolution with the time-reversed, transposed kernel. */
function inputGrad(dy: tf.Tensor3D, w: tf.Tensor3D, dilation: number, before: number, after: number): tf.Tensor3D {
  const wFlip = tf.transpose(tf.reverse(w, 0), [0, 2, 1]) as tf.Tensor3D; // [K, Cout, Cin]
  // x[p] fed outputs p - before - j·d for every tap j: the padding swaps sides.
  return tf.conv1d(padTime(dy, after, before), wFlip, 1, 'valid', 'NWC', dilation); // [B, L, Cin]
}

/** ∂w `[K, Cin, Cout]`: the padded input, batch as channels, convolved with ∂y as the kernel at stride d. */
function kernelGrad(dy: tf.Tensor3D, xp: tf.Tensor3D, dilation: number): tf.Tensor3D {
  const xT = tf.transpose(xp, [2, 1, 0]) as tf.Tensor3D; // [Cin, L + (K-1)·d, B]
  const dyT = tf.transpose(dy, [1, 0, 2]) as tf.Tensor3D; // [L, B, Cout]
  const dw = tf.conv1d(xT, dyT, dilation, 'valid', 'NWC'); // [Cin, K, Cout]
  return tf.transpose(dw, [1, 0, 2]) as tf.Tensor3D; // [K, Cin, Cout]
}
