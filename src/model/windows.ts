/**
 * Cutting a row-major series `[N, C]` into fixed-length windows `[W, L, C]`, the layout the
 * denoiser and `scoreWindows` take, and the time-ordered train/validation split.
 *
 * Example:
 *   const starts = windowStarts(1000, 64, 1);          // 0 … 936
 *   const x = gatherWindows(values, 2, 64, starts);     // Float32Array [937, 64, 2]
 */
import { ModelError } from '../errors.ts';

/** Start rows of every full window of length `windowLength` over `rows` rows, every `stride` points. */
export function windowStarts(rows: number, windowLength: number, stride = 1, from = 0): number[] {
  const out: number[] = [];
  for (let s = from; s + windowLength <= rows; s += stride) out.push(s);
  return out;
}

/**
 * Copy the windows starting at `starts` out of row-major `values` `[N, C]`.
 * @returns `[W, L, C]` row-major, W = starts.length
 */
export function gatherWindows(values: ArrayLike<number>, channels: number, windowLength: number, starts: readonly number[]): Float32Array {
  const rows = values.length / channels;
  const span = windowLength * channels;
  const out = new Float32Array(starts.length * span);
  starts.forEach((s, w) => {
    if (s < 0 || s + windowLength > rows) {
      throw new ModelError('MODEL_INVALID', `window at row ${s} of length ${windowLength} runs past the ${rows} rows of the series`, { field: 'starts' });
    }
    for (let i = 0; i < span; i++) out[w * span + i] = values[s * channels + i];
  });
  return out;
}

/**
 * Subtract each window's per-channel mean, in place, and return the means `[W, C]` so that a
 * reconstruction can be shifted back. `windows` is `[W, L, C]`. With `only`, just the channels it
 * marks (an imputation model's targets: a command's level is its state, not an offset); the
 * others keep their values and a mean of 0.
 */
export function centerWindows(windows: Float32Array, windowLength: number, channels: number, only?: readonly boolean[]): Float32Array {
  const count = windows.length / (windowLength * channels);
  const means = new Float32Array(count * channels);
  for (let w = 0; w < count; w++) {
    const base = w * windowLength * channels;
    for (let c = 0; c < channels; c++) {
      if (only && !only[c]) continue;
      let sum = 0;
      for (let i = 0; i < windowLength; i++) sum += windows[base + i * channels + c];
      const mean = sum / windowLength;
      means[w * channels + c] = mean;
      for (let i = 0; i < windowLength; i++) windows[base + i * channels + c] -= mean;
    }
  }
  return means;
}

/**
 * Centre `windows` `[W, L, C]` in place as a model is trained and scored: with `windowCentering`
 * every channel, or an imputation model's targets; else an imputation model's trending channels
 * (`centred`, levelTrend.ts). Returns the means taken off `[W, C]`, or undefined where nothing is centred.
 */
export function centreForModel(windows: Float32Array, windowLength: number, channels: number, windowCentering: boolean, imputation?: { targets: readonly boolean[]; centred?: readonly boolean[] }): Float32Array | undefined {
  if (windowCentering) return centerWindows(windows, windowLength, channels, imputation?.targets);
  return imputation?.centred ? centerWindows(windows, windowLength, channels, imputation.centred) : undefined;
}

export interface WindowSplit {
  /** Start rows of the training windows, in time order. */
  train: number[];
  /** Start rows of the validation windows: the last ones of the series. */
  validation: number[];
  /** Rows [0, trainRows) are the only rows any training window touches (the scaler is fitted on them). */
  trainRows: number;
}

/**
 * Hold out the LAST `validationFraction` of the windows (at least one), in time order. Training
 * windows end at least `windowLength` rows before the first validation window starts: without
 * that gap, neighbouring windows share points and autocorrelated context, and the validation
 * loss would reward memorising the boundary.
 */
export function splitWindows(rows: number, windowLength: number, stride: number, validationFraction: number): WindowSplit {
  const all = windowStarts(rows, windowLength, stride);
  const nVal = Math.max(1, Math.round(all.length * validationFraction));
  const validation = all.slice(all.length - nVal);
  const trainEnd = validation[0] - windowLength; // exclusive end row of the training part
  const train = all.filter((s) => s + windowLength <= trainEnd);
  if (train.length === 0) {
    // Enough rows for one training window, the gap and one validation window, with this split.
    const need = Math.ceil((3 * windowLength) / (1 - validationFraction));
    throw new ModelError('MODEL_INVALID', `series of ${rows} rows is too short to train on windows of ${windowLength} with a validation fraction of ${validationFraction}: need about ${need} rows or more`, { field: 'rows', rows, need });
  }
  return { train, validation, trainRows: train[train.length - 1] + windowLength };
}

/** The timestamps of the windows starting at `starts`, `[W, L]`, in float64: epoch ms do not fit a float32 (its step there is about 2 minutes). */
export function windowTimestamps(timestamps: Float64Array, windowLength: number, starts: readonly number[]): Float64Array {
  const out = new Float64Array(starts.length * windowLength);
  starts.forEach((s, w) => out.set(timestamps.subarray(s, s + windowLength), w * windowLength));
  return out;
}
