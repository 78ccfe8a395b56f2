/**
 * Per-channel robust scaling, fitted once on training data and stored with the checkpoint:
 *
 *   z = (x - median) / scale,   scale = IQR / 1.349, else (q99 - q01) / 4.653, else the floor
 *
 * Both constants make the scale equal the standard deviation for Gaussian data, so a z of 3
 * means what it usually does. Median and quantile ranges ignore the anomalies a training
 * stretch is bound to contain, where mean and std would absorb them. A channel whose quartiles
 * coincide (a flag that is nearly always 0) falls back to the 98 % range; MAD would not help
 * there, since quartiles coincide only when about half the values equal the median, which
 * makes MAD 0 as well, and a mean deviation would let one glitch set the scale. A channel
 * with no spread even then gets the floor
 * `max(absFloor, relFloor · |median|)`, so nothing divides by zero and a channel that was
 * constant still reads as a large, finite deviation when it moves.
 *
 * Values are row-major `[N, C]` (a `Window.values` is `[L, C]`).
 *
 * Example:
 *   const stats = fitRobustScaler(trainValues, 2);  // plain JSON
 *   const z = normalize(stats, window.values);      // Float32Array [L, C]
 */
import { ModelError } from '../errors.ts';

export interface RobustScaler {
  kind: 'robust';
  /** Median per channel, in channel units. */
  center: number[];
  /** Scale per channel, in channel units, ≥ the floor. */
  scale: number[];
  /** True where the channel had no spread and the floor was used. */
  floored: boolean[];
}

export interface FitRobustScalerOptions {
  /** Smallest scale in channel units. Default 1e-3. */
  absFloor?: number;
  /** Smallest scale relative to |median|. Default 1e-3. */
  relFloor?: number;
}

const IQR_TO_STD = 1.349;
const RANGE98_TO_STD = 4.653;

/** The q-quantile of sorted values with linear interpolation (numpy's default). */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function channelColumn(values: ArrayLike<number>, channels: number, c: number): Float64Array {
  const n = values.length / channels;
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i * channels + c];
    if (!Number.isFinite(v)) throw new ModelError('MODEL_INVALID', `normalization: non-finite value ${v} at row ${i}, channel ${c}`, { field: `values[${i}][${c}]` });
    col[i] = v;
  }
  return col.sort();
}

/** Fit median and robust scale per channel on row-major `[N, C]` values. */
export function fitRobustScaler(values: ArrayLike<number>, channels: number, opts: FitRobustScalerOptions = {}): RobustScaler {
  if (!Number.isInteger(channels) || channels < 1) throw new ModelError('MODEL_INVALID', `normalization: channels must be a positive integer, got ${channels}`, { field: 'channels' });
  if (values.length === 0 || values.length % channels !== 0) {
    throw new ModelError('MODEL_INVALID', `normalization: need a non-empty [N, ${channels}] array, got ${values.length} values`, { field: 'values' });
  }
  const absFloor = opts.absFloor ?? 1e-3;
  const relFloor = opts.relFloor ?? 1e-3;
  const stats: RobustScaler = { kind: 'robust', center: [], scale: [], floored: [] };
  for (let c = 0; c < channels; c++) {
    const col = channelColumn(values, channels, c);
    const median = quantileSorted(col, 0.5);
    let spread = (quantileSorted(col, 0.75) - quantileSorted(col, 0.25)) / IQR_TO_STD;
    if (!(spread > 0)) spread = (quantileSorted(col, 0.99) - quantileSorted(col, 0.01)) / RANGE98_TO_STD;
    const floor = Math.max(absFloor, relFloor * Math.abs(median));
    stats.center.push(median);
    stats.scale.push(Math.max(spread, floor));
    stats.floored.push(!(spread >= floor));
  }
  return stats;
}

function apply(stats: RobustScaler, values: ArrayLike<number>, f: (v: number, c: number) => number): Float32Array {
  const channels = stats.center.length;
  if (values.length % channels !== 0) {
    throw new ModelError('MODEL_MISMATCH', `normalization fitted on ${channels} channels, got ${values.length} values (not [N, ${channels}])`, { expected: channels, actual: values.length });
  }
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f(values[i], i % channels);
  return out;
}

/** z = (x - center) / scale, row-major `[N, C]` → `[N, C]`. */
export function normalize(stats: RobustScaler, values: ArrayLike<number>): Float32Array {
  return apply(stats, values, (v, c) => (v - stats.center[c]) / stats.scale[c]);
}

/** x = z · scale + center, the inverse of `normalize`. */
export function denormalize(stats: RobustScaler, values: ArrayLike<number>): Float32Array {
  return apply(stats, values, (v, c) => v * stats.scale[c] + stats.center[c]);
}
