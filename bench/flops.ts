/**
 * FLOPs of the denoiser counted from its shapes, shared by the model benchmarks (bench/model.ts,
 * bench/reference/vsTorch.ts) so that their GFLOP/s figures mean the same thing.
 *
 * @example forwardFlops({ channels: 1, width: 32, depth: 4, kernelSize: 3, embedDim: 32 }, 64) // 3.17e6
 */

/**
 * Multiply-adds × 2 of one forward pass of the denoiser on one window, counted from the shapes:
 * a conv is 2·L·K·Cin·Cout, a dense layer 2·in·out (the time MLP and the per-block time
 * projections run once per window). Biases, activations and the unfold copies are left out.
 * `condChannels` (default 0) are extra inputs of the input projection only.
 */
export function forwardFlops(a: { channels: number; condChannels?: number; width: number; depth: number; kernelSize: number; embedDim: number }, len: number): number {
  const conv = (k: number, cin: number, cout: number) => 2 * len * k * cin * cout;
  const dense = (i: number, o: number) => 2 * i * o;
  const blocks = a.depth * (2 * conv(a.kernelSize, a.width, a.width) + dense(a.embedDim, a.width));
  return conv(a.kernelSize, a.channels + (a.condChannels ?? 0), a.width) + 2 * dense(a.embedDim, a.embedDim) + blocks + conv(1, a.width, a.channels);
}
