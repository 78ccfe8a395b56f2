/**
 * Out of range: a value outside its channel's configured limits `{ min?, max? }` (inclusive
 * limits: a value equal to a limit is in range). Channels without limits are not checked; NaN
 * points are skipped.
 *
 * Judgement: score = 0 while every checked channel is in range; otherwise
 * `1 + excess / scale` of the worst channel, where excess is the distance past the limit and
 * scale is the width `max − min` when both limits are set, else |limit| (1 when the limit is 0).
 * threshold = keepLevel = 1. So with the default severity levels a value a quarter of the range
 * past its limit is a `warning`, a whole range past it `critical`. Each channel out of range gets
 * an equal share of the contributions.
 *
 * The result object and its `contributions` are reused between calls.
 *
 * @example
 * const oor = createOutOfRange({ temp: { max: 90 } }, ['rpm', 'temp']);
 * oor.update([1200, 95]).detail; // { channel: 'temp', value: 95, max: 90 }
 */
import { ConfigError, DiffwatchError } from '../../errors.ts';
import type { Judgement } from '../alertLifecycle.ts';

export const OUT_OF_RANGE_KIND = 'out_of_range';

export interface ChannelLimits {
  /** Lowest allowed value, channel units. */
  min?: number;
  /** Highest allowed value, channel units. */
  max?: number;
}

export interface OutOfRangeDetail {
  /** The channel furthest out of range. */
  channel: string;
  value: number;
  min?: number;
  max?: number;
}

export interface OutOfRangeResult extends Judgement {
  contributions: Float32Array;
  detail: OutOfRangeDetail | null;
}

export interface OutOfRange {
  /** Judges one point (values of all C channels). */
  update(values: ArrayLike<number>): OutOfRangeResult;
}

/** Checks limits once, naming the config key of the bad one. */
export function validateLimits(limits: Readonly<Record<string, ChannelLimits>>, key = 'detect.rules.outOfRange.limits'): void {
  for (const [channel, l] of Object.entries(limits)) {
    for (const side of ['min', 'max'] as const) {
      const v = l[side];
      if (v !== undefined && !Number.isFinite(v)) throw new ConfigError(`${key}.${channel}.${side}`, `must be a finite number, got ${v}`);
    }
    if (l.min === undefined && l.max === undefined) throw new ConfigError(`${key}.${channel}`, 'set min, max or both');
    if (l.min !== undefined && l.max !== undefined && l.min > l.max) throw new ConfigError(`${key}.${channel}`, `min ${l.min} is above max ${l.max}`);
  }
}

export function createOutOfRange(limits: Readonly<Record<string, ChannelLimits>>, channels: readonly string[]): OutOfRange {
  validateLimits(limits);
  const C = channels.length;
  // Per-channel limits as flat arrays (±Infinity for an open side), resolved once for this channel order.
  const lo = new Float64Array(C).fill(-Infinity);
  const hi = new Float64Array(C).fill(Infinity);
  const scale = new Float64Array(C);
  const checked = new Uint8Array(C);
  channels.forEach((ch, c) => {
    const l = Object.hasOwn(limits, ch) ? limits[ch] : undefined;
    if (!l) return;
    checked[c] = 1;
    lo[c] = l.min ?? -Infinity;
    hi[c] = l.max ?? Infinity;
    const width = l.min !== undefined && l.max !== undefined ? l.max - l.min : Math.abs(l.min ?? l.max ?? 0);
    scale[c] = width > 0 ? width : 1;
  });
  const result: OutOfRangeResult = { triggered: false, score: 0, threshold: 1, keepLevel: 1, contributions: new Float32Array(C), detail: null };

  return {
    update(values) {
      if (values.length !== C) throw new DiffwatchError('RULE_INPUT_INVALID', `out_of_range: expected ${C} values, got ${values.length}`, { coords: { field: 'values' } });
      let worst = -1;
      let score = 0;
      let outCount = 0;
      for (let c = 0; c < C; c++) {
        const v = values[c];
        // NaN fails both comparisons, so a missing value is never out of range.
        const excess = checked[c] === 0 ? 0 : v < lo[c] ? lo[c] - v : v > hi[c] ? v - hi[c] : 0;
        if (excess > 0) {
          outCount++;
          const s = 1 + excess / scale[c];
          if (s > score) {
            score = s;
            worst = c;
          }
        }
      }
      result.score = score;
      result.triggered = outCount > 0;
      const share = outCount > 0 ? 1 / outCount : 0;
      for (let c = 0; c < C; c++) {
        const v = values[c];
        result.contributions[c] = checked[c] === 1 && (v < lo[c] || v > hi[c]) ? share : 0;
      }
      result.detail = worst < 0 ? null : detailOf(channels[worst], values[worst], limits[channels[worst]]);
      return result;
    },
  };
}

function detailOf(channel: string, value: number, l: ChannelLimits): OutOfRangeDetail {
  const d: OutOfRangeDetail = { channel, value };
  if (l.min !== undefined) d.min = l.min;
  if (l.max !== undefined) d.max = l.max;
  return d;
}
