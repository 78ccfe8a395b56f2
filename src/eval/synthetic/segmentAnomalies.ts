/**
 * Anomalies of the main analogue channel (`value`, or `a1`), one segment each, all inside the
 * test part. Each rewrites the channel from its parts (see `wave.ts`), so the rest of the series
 * and every other channel stay as they were.
 */
import type { BaseSeries } from './baseSeries.ts';
import type { SyntheticKnobs } from './knobs.ts';
import { intIn, type Rng } from './rngStreams.ts';
import { dailyShape, phaseAt, type Wave } from './wave.ts';

/** An anomalous stretch, rows of the whole series, both ends included. */
export interface Segment {
  start: number;
  end: number;
}

export interface Injection {
  /** A rewritten copy of the base values, `[N, C]`. */
  values: Float64Array;
  segments: Segment[];
}

/**
 * Rewrites rows [s, s + len) of the main channel; `f(t, x)` gets the row and its current value.
 * The segment starts at least `marginRows` into the test part and ends `marginRows` before its end.
 */
export function rewriteMain(base: BaseSeries, rng: Rng, k: Readonly<SyntheticKnobs>, len: number, f: (t: number, x: number, s: number) => number, start?: number): Injection {
  const { train, total } = base.rows;
  const s = start ?? intIn(rng, train + k.marginRows, total - len - k.marginRows);
  const C = base.channels.length;
  const c = base.main.channel;
  const values = base.values.slice();
  for (let t = s; t < s + len; t++) values[t * C + c] = f(t, values[t * C + c], s); // [N, C]
  return { values, segments: [{ start: s, end: s + len - 1 }] };
}

/** The main channel's value at row t with its daily part replaced by `daily` (σ units). */
const withDaily = (w: Wave, t: number, daily: number): number => w.offset + w.unit * (daily + w.weekly[t] + w.noise[t]);

type SegmentInjector = (base: BaseSeries, rng: Rng, k: Readonly<SyntheticKnobs>) => Injection;

export const SEGMENT_INJECTORS: Readonly<Record<string, SegmentInjector>> = {
  levelShift: (b, r, k) => rewriteMain(b, r, k, k.segmentRows, (_t, x) => x + b.main.unit * k.levelShift),
  varianceChange: (b, r, k) => rewriteMain(b, r, k, k.segmentRows, (t, x) => x + b.main.unit * (k.varianceFactor - 1) * b.main.noise[t]),
  // A ramp from 0 to `trendRise` σ over the segment; the series snaps back after it.
  trendChange: (b, r, k) => rewriteMain(b, r, k, k.segmentRows, (t, x, s) => x + (b.main.unit * k.trendRise * (t - s + 1)) / k.segmentRows),
  // Phase-continuous at the start: the cycle speeds up from where it was.
  frequencyChange: (b, r, k) =>
    rewriteMain(b, r, k, k.segmentRows, (t, _x, s) => {
      const theta = phaseAt(b.main, s, k.pointsPerDay) + (2 * Math.PI * k.frequencyFactor * (t - s)) / k.pointsPerDay;
      return withDaily(b.main, t, b.main.amplitude * dailyShape(theta));
    }),
  phaseShift: (b, r, k) =>
    rewriteMain(b, r, k, k.segmentRows, (t) => withDaily(b.main, t, b.main.amplitude * dailyShape(phaseAt(b.main, t - k.phaseShiftRows, k.pointsPerDay)))),
  // One whole calendar day without its cycle: only the weekly part and the noise remain.
  missingDailyCycle: (b, r, k) => {
    const day = intIn(r, 1, k.testDays - 2);
    return rewriteMain(b, r, k, k.pointsPerDay, (t) => withDaily(b.main, t, 0), b.rows.train + day * k.pointsPerDay);
  },
  // A 2-hour square wave of half the daily amplitude around the daily mean, for 8 hours.
  patternChange: (b, r, k) => rewriteMain(b, r, k, k.patternRows, (t, _x, s) => withDaily(b.main, t, (Math.floor((t - s) / 12) % 2 === 0 ? 0.5 : -0.5) * b.main.amplitude)),
  // The clean value of the first row, exactly, with no noise.
  flatline: (b, r, k) => rewriteMain(b, r, k, k.flatlineRows, (_t, _x, s) => b.main.offset + b.main.unit * (b.main.daily[s] + b.main.weekly[s])),
  // Sample-and-hold: the reading updates once every `stuckHoldRows` rows and repeats in between.
  stuckValue: (b, r, k) => {
    const C = b.channels.length;
    const c = b.main.channel;
    return rewriteMain(b, r, k, k.segmentRows, (t, x, s) => {
      const held = s + k.stuckHoldRows * Math.floor((t - s) / k.stuckHoldRows);
      return held === t ? x : b.values[held * C + c];
    });
  },
};
