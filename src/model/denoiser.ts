/**
 * The noise-prediction network ε_θ(x_t, t): a 1-D convolutional residual net over windows
 * `[batch, windowLen, channels]`, channels-last, C channels in and C out.
 *
 *   h   = conv_K(x_t)                                   input projection, C → width
 *   e   = dense(SiLU(dense(sinusoid(t))))               time embedding MLP, E → E → E
 *   h  += conv2_d(conv1_d(h) |> SiLU |> + dense_i(SiLU(e)))   per block i, dilation d = 1, 2, 4, …
 *   ε̂   = conv_1(SiLU(h))                               output projection, width → C
 *
 * It follows improved-diffusion's ResBlock (https://github.com/openai/improved-diffusion/blob/main/improved_diffusion/unet.py)
 * minus its GroupNorm: a window net this shallow (default 4 blocks) trains stably without it
 * once each residual branch's last conv starts scaled down by 1/√depth (Fixup, Zhang et al. 2019),
 * and each norm would add two reductions per block to a service that scores on 2 cores.
 * The inputs are already robust-normalised per channel (normalization.ts).
 *
 * Dilations grow 1, 2, 4, 8 and repeat (WaveNet): with K = 3 one cycle of 4 blocks sees
 * 2 + 4·(1+2+4+8) + 1 = 63 points, about one default window of 64. A dilation costs nothing in either convolution form.
 *
 * With `groups` the net is several such nets side by side, one per group of channels
 * (channelGroups.ts), each reading only its own channels' x_t, observed values and mask, plus the
 * shared extra inputs (the calendar), and predicting its own channels: nothing of one group reaches
 * another's output. Group i's weights are named `g<i>/…`; a net without groups keeps the plain names.
 *
 * Weights are named `tf.Variable`s in a plain object (`getWeights()`/`setWeights()`), and
 * `DenoiserArgs` round-trips through JSON, so a checkpoint is a weights manifest plus the args.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../errors.ts';
import { timestepEmbedding } from './timestepEmbedding.ts';
import { blockDiagonalWeights } from './blockDiagonal.ts';
import { gradConv1d } from './gradConv1d.ts';
import { convPadding, unfoldConv1d, type ConvPadding } from './unfoldConv1d.ts';

export interface DenoiserArgs {
  /** Channels C of the windows, in and out. */
  channels: number;
  /**
   * Extra input channels that condition the prediction and are not predicted: for the imputation
   * model, the observed context and its mask (2C). 0 for an unconditional denoiser.
   */
  condChannels: number;
  /** Filters of every hidden conv. */
  width: number;
  /** Residual blocks. */
  depth: number;
  /** Taps K of every hidden conv (odd keeps 'same' centred). */
  kernelSize: number;
  /** Size E of the timestep embedding. */
  embedDim: number;
  /** Dilation of block i, length depth. Default 1, 2, 4, 8, 1, 2, … */
  dilations: number[];
  padding: ConvPadding;
  /** Seed of the weight initialisation. */
  seed: number;
  /**
   * Channel groups, each a net of its own: ascending indices into the C channels, every channel in
   * at least one group, each group's output taken for the channels no earlier group has. Needs the
   * imputation layout of the conditioning input, [observed (C), mask (C), extra], since each group
   * reads its own part of it. Absent: one net over every channel.
   */
  groups?: number[][];
  /** With groups: whether group i reads the extra inputs (the calendar). Absent: every group does. */
  groupExtras?: boolean[];
}

/** Small enough to stream on 2 cores: ~30 k parameters for C = 1. */
export const DENOISER_DEFAULTS = { condChannels: 0, width: 32, depth: 4, kernelSize: 3, embedDim: 32, padding: 'same', seed: 0 } as const;

export function defaultDilations(depth: number): number[] {
  return Array.from({ length: depth }, (_, i) => 2 ** (i % 4));
}

/**
 * How many points before position i the output at i can depend on: (K-1)/2 per 'same' conv tap
 * span (K-1 for 'causal'), times 1 for the input projection plus 2·d for each block's two convs.
 * Scoring uses it to run the network on only the part of a window that can reach the newest point.
 * @example leftReach({ kernelSize: 3, dilations: [1, 2, 4], padding: 'same' }) // 15
 */
export function leftReach(args: Pick<DenoiserArgs, 'kernelSize' | 'dilations' | 'padding'>): number {
  const [before] = convPadding(args.kernelSize, 1, args.padding);
  return before * (1 + 2 * args.dilations.reduce((a, d) => a + d, 0));
}

export function resolveDenoiserArgs(input: Partial<DenoiserArgs> & { channels: number }): DenoiserArgs {
  const args: DenoiserArgs = { ...DENOISER_DEFAULTS, ...input, dilations: input.dilations ?? defaultDilations(input.depth ?? DENOISER_DEFAULTS.depth) };
  const bad = (field: string, why: string) => new ModelError('MODEL_INVALID', `denoiser ${field}: ${why}`, { field });
  for (const key of ['channels', 'width', 'depth', 'kernelSize', 'embedDim'] as const) {
    if (!Number.isInteger(args[key]) || args[key] < 1) throw bad(key, `must be a positive integer, got ${args[key]}`);
  }
  if (!Number.isInteger(args.condChannels) || args.condChannels < 0) throw bad('condChannels', `must be a non-negative integer, got ${args.condChannels}`);
  if (args.embedDim < 2) throw bad('embedDim', `must be ≥ 2 for a sinusoidal embedding, got ${args.embedDim}`);
  if (args.dilations.length !== args.depth || !args.dilations.every((d) => Number.isInteger(d) && d >= 1)) {
    throw bad('dilations', `needs ${args.depth} positive integers (one per block), got ${JSON.stringify(args.dilations)}`);
  }
  if (args.padding !== 'same' && args.padding !== 'causal') throw bad('padding', `must be 'same' or 'causal', got ${JSON.stringify(args.padding)}`);
  if (args.groups !== undefined) checkGroups(args.groups, args.channels, args.condChannels, bad);
  if (args.groupExtras !== undefined && !(Array.isArray(args.groupExtras) && args.groupExtras.length === args.groups?.length && args.groupExtras.every((x) => typeof x === 'boolean'))) {
    throw bad('groupExtras', `needs one true or false per group (${args.groups?.length ?? 'no groups'}), got ${JSON.stringify(args.groupExtras)}`);
  }
  return args;
}

function checkGroups(groups: unknown, C: number, condChannels: number, bad: (field: string, why: string) => ModelError): void {
  const ok = Array.isArray(groups) && groups.length >= 2 && groups.every((g) => Array.isArray(g) && g.length > 0 && g.every((c, i) => Number.isInteger(c) && c >= 0 && c < C && (i === 0 || c > g[i - 1])));
  if (!ok) throw bad('groups', `must be 2 or more non-empty ascending lists of channel indices below ${C}, got ${JSON.stringify(groups)}`);
  const covered = new Set((groups as number[][]).flat());
  if (covered.size !== C) throw bad('groups', `must cover every one of the ${C} channels, got ${JSON.stringify(groups)}`);
  if (condChannels < 2 * C) throw bad('groups', `need the conditioning input [observed, mask, extra] (≥ ${2 * C} channels), got ${condChannels}`);
}

/** Group i's channels of [x_t, cond]: its x_t, observed values and mask, and the extra inputs unless `groupExtras` says not. */
function groupInputs(a: DenoiserArgs, i: number): number[] {
  const C = a.channels;
  const g = a.groups![i];
  const extra = a.groupExtras?.[i] === false ? [] : Array.from({ length: a.condChannels - 2 * C }, (_, k) => 3 * C + k);
  return [...g, ...g.map((c) => C + c), ...g.map((c) => 2 * C + c), ...extra];
}

/** Name → [shape, init std] of every weight; a std of 0 means zeros (biases). */
function weightSpecs(a: DenoiserArgs): [string, number[], number][] {
  if (!a.groups) return netSpecs(a, a.channels, a.condChannels, '');
  return a.groups.flatMap((g, i) => netSpecs(a, g.length, groupInputs(a, i).length - g.length, `g${i}/`));
}

/** The weights of one net of `c` channels in and out and `cc` conditioning channels, names prefixed. */
function netSpecs(a: DenoiserArgs, c: number, cc: number, prefix: string): [string, number[], number][] {
  const { width: w, kernelSize: k, embedDim: e, depth } = a;
  const he = (fanIn: number) => Math.sqrt(2 / fanIn);
  const specs: [string, number[], number][] = [
    ['inProj/kernel', [k, c + cc, w], he(k * (c + cc))],
    ['inProj/bias', [w], 0],
    ['timeEmbed/dense1/kernel', [e, e], he(e)],
    ['timeEmbed/dense1/bias', [e], 0],
    ['timeEmbed/dense2/kernel', [e, e], Math.sqrt(1 / e)],
    ['timeEmbed/dense2/bias', [e], 0],
  ];
  for (let i = 0; i < depth; i++) {
    specs.push(
      [`block${i}/conv1/kernel`, [k, w, w], he(k * w)],
      [`block${i}/conv1/bias`, [w], 0],
      [`block${i}/time/kernel`, [e, w], Math.sqrt(1 / e)],
      [`block${i}/time/bias`, [w], 0],
      // Fixup: the branch's last layer starts small so the residual stream does not grow with depth.
      [`block${i}/conv2/kernel`, [k, w, w], he(k * w) / Math.sqrt(depth)],
      [`block${i}/conv2/bias`, [w], 0],
    );
  }
  // Small rather than zero (improved-diffusion zeroes it): with a zero output layer every other
  // weight gets a zero gradient on the first step, and ε̂ ≈ 0 is already the near-optimal start.
  specs.push(['outProj/kernel', [1, w, c], 0.01 * Math.sqrt(1 / w)], ['outProj/bias', [c], 0]);
  return specs.map(([name, shape, std]) => [prefix + name, shape, std]);
}

const silu = (x: tf.Tensor) => tf.mul(x, tf.sigmoid(x));

function placementMatrix(groups: readonly number[][], C: number): tf.Tensor2D {
  const rows = groups.flat();
  const seen = new Set<number>();
  const m = new Float32Array(rows.length * C);
  rows.forEach((c, j) => {
    if (!seen.has(c)) m[j * C + c] = 1;
    seen.add(c);
  });
  return tf.tensor2d(m, [rows.length, C]);
}

/**
 * How `apply` runs its convolutions. 'conv1d' (the default) is the backend's convolution kernel
 * with a gradient made of forward convolutions (gradConv1d.ts): it trains on every backend and
 * at every dilation, and on wasm a training step took about a third of the unfold form's time
 * (docs/benchmarks.md, "Training"). 'unfold' (slices, a concat and one matMul) is kept for
 * backends whose convolution kernel was not measured (webgpu), with equal outputs.
 */
export type ConvImpl = 'unfold' | 'conv1d';

export class Denoiser {
  readonly args: DenoiserArgs;
  /** See ConvImpl. */
  convImpl: ConvImpl = 'conv1d';
  /**
   * How a grouped net runs: 'separate', each group's net on its own (what training uses), or
   * 'blockDiagonal', one net whose weights are the groups' on the diagonal (blockDiagonal.ts):
   * the same outputs in one kernel call per layer, for scoring where calls are dear. Its weights
   * are copies made by `fuseGroups()` and dropped by `setWeights`, so training must not use it.
   */
  groupForm: 'separate' | 'blockDiagonal' = 'separate';
  private readonly weights: Record<string, tf.Variable>;
  private fused: Record<string, tf.Tensor> | null = null;
  /**
   * With groups: `[Σ|g|, C]`, row j one-hot at the channel that the j-th output of the groups'
   * outputs side by side stands for, zero where an earlier group already gave that channel (a
   * command read by two groups). A plain matMul, so the gradient needs no scatter kernel.
   */
  private readonly placement!: tf.Tensor2D;

  constructor(input: Partial<DenoiserArgs> & { channels: number }) {
    this.args = resolveDenoiserArgs(input);
    this.weights = {};
    weightSpecs(this.args).forEach(([name, shape, std], i) => {
      // TF.js treats a seed of 0 as "no seed" (Math.random), so the first weight of seed 0 would not
      // repeat: offset every weight's seed by one.
      const init = std === 0 ? tf.zeros(shape) : tf.randomNormal(shape, 0, std, 'float32', this.args.seed * 1009 + i + 1);
      this.weights[name] = tf.variable(init, true); // unnamed: tf variable names are global, two nets would clash
      init.dispose();
    });
    if (this.args.groups) this.placement = placementMatrix(this.args.groups, this.args.channels);
  }

  /** The args as plain JSON: `new Denoiser(d.getConfig())` builds the same architecture. */
  getConfig(): DenoiserArgs {
    const { groups, groupExtras } = this.args;
    return { ...this.args, dilations: [...this.args.dilations], ...(groups ? { groups: groups.map((g) => [...g]) } : {}), ...(groupExtras ? { groupExtras: [...groupExtras] } : {}) };
  }

  /**
   * ε̂ = ε_θ(x_t, t).
   * @param xt noised windows `[B, L, C]`
   * @param t timesteps `[B]`, int32
   * @param cond conditioning channels `[B, L, condChannels]`; required exactly when condChannels > 0
   * @returns predicted noise `[B, L, C]`
   */
  apply(xt: tf.Tensor3D, t: tf.Tensor1D, cond?: tf.Tensor3D): tf.Tensor3D {
    const [batch, , channels] = xt.shape;
    const { condChannels } = this.args;
    if ((cond?.shape[2] ?? 0) !== condChannels) {
      throw new ModelError('MODEL_MISMATCH', `denoiser built for ${condChannels} conditioning channels, got ${cond?.shape[2] ?? 0}`, { expected: condChannels, actual: cond?.shape[2] ?? 0 });
    }
    if (channels !== this.args.channels) {
      throw new ModelError('MODEL_MISMATCH', `denoiser built for ${this.args.channels} channels, got windows with ${channels}`, { expected: this.args.channels, actual: channels });
    }
    if (t.shape[0] !== batch) throw new ModelError('MODEL_MISMATCH', `denoiser: ${t.shape[0]} timesteps for a batch of ${batch}`, { expected: batch, actual: t.shape[0] });
    return tf.tidy(() => {
      const input = cond ? (tf.concat([xt, cond], 2) as tf.Tensor3D) : xt; // [B, L, C + condChannels]
      const { groups, embedDim } = this.args;
      const emb = timestepEmbedding(t, embedDim); // [B, E], shared by every group's net
      const w = this.weights as Record<string, tf.Tensor>;
      if (!groups) return this.net(input, emb, w, '', this.args.width);
      const side = this.groupForm === 'blockDiagonal'
        ? this.net(tf.gather(input, groups.flatMap((_, i) => groupInputs(this.args, i)), 2) as tf.Tensor3D, emb, this.blocks(), '', groups.length * this.args.width)
        : tf.concat(groups.map((_, i) => this.net(tf.gather(input, groupInputs(this.args, i), 2) as tf.Tensor3D, emb, w, `g${i}/`, this.args.width)), 2); // each [B, L, |g|]
      return tf.reshape(tf.matMul(tf.reshape(side, [-1, this.placement.shape[0]]), this.placement), [batch, -1, channels]) as tf.Tensor3D; // [B, L, C]
    });
  }

  /** One net of `width` filters over `input` `[B, L, c + cc]` at timestep embedding `emb` `[B, E]`: its weights are those of `w` named `prefix…`. Returns `[B, L, c]`. */
  private net(input: tf.Tensor3D, emb: tf.Tensor2D, w: Record<string, tf.Tensor>, prefix: string, width: number): tf.Tensor3D {
    const { padding, dilations } = this.args;
    const batch = input.shape[0];
    const dense = (x: tf.Tensor, name: string) => tf.add(tf.matMul(x as tf.Tensor2D, w[`${prefix}${name}/kernel`] as tf.Tensor2D), w[`${prefix}${name}/bias`]);
    const convForm = this.convImpl === 'conv1d' ? gradConv1d : unfoldConv1d;
    const conv = (x: tf.Tensor3D, name: string, dilation: number) => convForm(x, w[`${prefix}${name}/kernel`] as tf.Tensor3D, w[`${prefix}${name}/bias`] as tf.Tensor1D, { dilation, padding });

    const temb = silu(dense(silu(dense(emb, 'timeEmbed/dense1')), 'timeEmbed/dense2')); // [B, E]
    let h = conv(input, 'inProj', 1); // [B, L, width]
    dilations.forEach((d, i) => {
      let y = silu(conv(h, `block${i}/conv1`, d)); // [B, L, width]
      y = tf.add(y, tf.reshape(dense(temb, `block${i}/time`), [batch, 1, width])); // [B, L, width] + [B, 1, width]
      y = conv(y as tf.Tensor3D, `block${i}/conv2`, d); // [B, L, width]
      h = tf.add(h, y); // [B, L, width]
    });
    return conv(silu(h) as tf.Tensor3D, 'outProj', 1); // [B, L, c]
  }

  /** The live variables by name (do not dispose them): what a weights manifest stores. */
  getWeights(): tf.NamedTensorMap {
    return { ...this.weights };
  }

  /** Copy values into the variables. Names and shapes must match exactly. */
  setWeights(values: tf.NamedTensorMap): void {
    const expected = Object.keys(this.weights);
    const extra = Object.keys(values).filter((n) => !(n in this.weights));
    const missing = expected.filter((n) => !(n in values));
    if (extra.length || missing.length) {
      throw new ModelError('MODEL_MISMATCH', `denoiser weights: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`, { missing, extra });
    }
    for (const name of expected) {
      const [want, got] = [this.weights[name].shape, values[name].shape];
      if (want.length !== got.length || want.some((n, i) => n !== got[i])) {
        throw new ModelError('MODEL_MISMATCH', `denoiser weight ${name}: expected shape [${want}], got [${got}]`, { field: name, expected: want, actual: got });
      }
    }
    this.dropBlocks();
    // Assigning a variable to itself frees its data; such a value is already in place.
    for (const name of expected) if (values[name] !== this.weights[name]) this.weights[name].assign(values[name]);
  }

  trainableVariables(): tf.Variable[] {
    return Object.values(this.weights);
  }

  countParams(): number {
    return Object.values(this.weights).reduce((n, v) => n + v.size, 0);
  }

  /**
   * Makes the block-diagonal weights now (a no-op without groups), so that the first call in that
   * form allocates nothing that outlives it. They follow the variables until the next `setWeights`.
   */
  fuseGroups(): void {
    if (this.args.groups && !this.fused) this.fused = tf.tidy(() => blockDiagonalWeights(this.weights, this.args.groups!.length));
  }

  private blocks(): Record<string, tf.Tensor> {
    if (!this.fused) throw new ModelError('MODEL_INVALID', 'denoiser: groupForm "blockDiagonal" needs fuseGroups() first', { field: 'groupForm' });
    return this.fused;
  }

  private dropBlocks(): void {
    for (const t of Object.values(this.fused ?? {})) t.dispose();
    this.fused = null;
  }

  dispose(): void {
    this.dropBlocks();
    for (const v of Object.values(this.weights)) v.dispose();
    this.placement?.dispose();
  }
}
