/**
 * What kind of signal each channel of a training series is, from its values alone:
 *
 *   constant  one distinct value (a setpoint, a firmware version)
 *   binary    exactly two distinct values (a command or a status flag, whatever its two codes)
 *   analogue  three or more distinct values (a measurement)
 *
 * A detector treats the kinds differently: a measured channel is compared with its spread, a
 * flag's spread says little about how surprising its other value is, and a constant has none.
 * Plain data: no tf import, so the evaluation suite and the model share one rule.
 *
 * Example:
 *   channelKinds(Float64Array.from([1, 0, 5,  1, 1, 6,  1, 0, 7]), 3); // ['constant', 'binary', 'analogue']
 */
import { ModelError } from '../errors.ts';

export type ChannelKind = 'constant' | 'binary' | 'analogue';

/** Kind of every channel of row-major `[N, C]` values; NaN (a gap) is not a value. */
export function channelKinds(values: ArrayLike<number>, channels: number): ChannelKind[] {
  if (!Number.isInteger(channels) || channels < 1) throw new ModelError('MODEL_INVALID', `channelKinds: channels must be a positive integer, got ${channels}`, { field: 'channels' });
  if (values.length % channels !== 0) {
    throw new ModelError('MODEL_INVALID', `channelKinds: ${values.length} values are not [N, ${channels}]`, { field: 'values' });
  }
  const rows = values.length / channels;
  return Array.from({ length: channels }, (_, c) => kindOf(values, channels, c, rows));
}

function kindOf(values: ArrayLike<number>, C: number, c: number, rows: number): ChannelKind {
  const n = distinctValues(values, C, c, rows).length;
  return n > 2 ? 'analogue' : n === 2 ? 'binary' : 'constant';
}

/**
 * The distinct values of channel c of `[N, C]` values in first-seen order, NaN skipped, stopping at
 * the third: a long analogue channel costs no more than three reads, and a binary channel's two
 * levels come back whole.
 */
export function distinctValues(values: ArrayLike<number>, C: number, c: number, rows = values.length / C): number[] {
  const seen: number[] = [];
  for (let i = 0; i < rows && seen.length <= 2; i++) {
    const v = values[i * C + c]; // [N, C]
    if (!Number.isNaN(v) && !seen.includes(v)) seen.push(v);
  }
  return seen;
}

/** Indices of the channels of one kind, e.g. the analogue ones a detector compares with their spread. */
export function channelsOfKind(kinds: readonly ChannelKind[], kind: ChannelKind): number[] {
  return kinds.flatMap((k, c) => (k === kind ? [c] : []));
}
