/**
 * Spatial novelty: how far a new point lies outside the range of values the entity has shown
 * so far, per channel, in units of that range. A value the series never reached is evidence of
 * an anomaly that needs no model (a sensor pegged at a new extreme, a load that never happened),
 * and it is the check a reconstruction model is worst at: a clean ramp to a new level looks
 * like a plausible window once it is there. Numenta's HTM detector adds the same check
 * ("spatial anomaly", numenta/NAB `nab/detectors/numenta/numenta_detector.py`).
 *
 *   excess = max over channels of max(x - max_seen, min_seen - x) / (max_seen - min_seen)
 *
 * 0 while the point is inside the range (or before `minPoints` points); the point then widens
 * the range. A flat history (range 0) makes any change an infinite excess: callers cap it.
 *
 * @example
 * const range = new RangeNovelty({ minPoints: 32 });
 * range.update([10]); // 0 (still learning)
 * ...
 * range.update([55]); // 0.5 when 55 is half a range above the highest value so far
 */
import { ConfigError } from '../errors.ts';

export interface RangeNoveltyConfig {
  /** Points per channel seen before any excess is reported (the first values define the range). */
  minPoints: number;
}

export const RANGE_NOVELTY_DEFAULTS: Readonly<RangeNoveltyConfig> = Object.freeze({ minPoints: 32 });

export interface RangeNoveltySnapshot {
  min: (number | null)[];
  max: (number | null)[];
  seen: number;
}

export class RangeNovelty {
  private min: Float64Array;
  private max: Float64Array;
  private seen = 0;

  constructor(readonly config: RangeNoveltyConfig = RANGE_NOVELTY_DEFAULTS) {
    if (!(Number.isInteger(config.minPoints) && config.minPoints >= 1)) throw new ConfigError('detect.rangeNovelty.minPoints', `must be an integer >= 1, got ${config.minPoints}`);
    this.min = new Float64Array(0);
    this.max = new Float64Array(0);
  }

  /** Points seen so far. */
  get points(): number {
    return this.seen;
  }

  /**
   * Takes the newest point of every channel (`[C]`; non-finite values are skipped); returns its
   * excess over the range seen before it, then widens the range.
   */
  update(point: ArrayLike<number>): number {
    if (this.min.length !== point.length) {
      if (this.seen > 0) throw new ConfigError('detect.rangeNovelty', `got a point of ${point.length} channels after points of ${this.min.length}`);
      this.min = new Float64Array(point.length).fill(Number.POSITIVE_INFINITY);
      this.max = new Float64Array(point.length).fill(Number.NEGATIVE_INFINITY);
    }
    let excess = 0;
    const judged = this.seen >= this.config.minPoints;
    for (let c = 0; c < point.length; c++) {
      const x = point[c];
      if (!Number.isFinite(x)) continue;
      if (judged) {
        const out = Math.max(x - this.max[c], this.min[c] - x);
        if (out > 0) excess = Math.max(excess, out / (this.max[c] - this.min[c]));
      }
      if (x < this.min[c]) this.min[c] = x;
      if (x > this.max[c]) this.max[c] = x;
    }
    this.seen++;
    return excess;
  }
  /** Plain JSON for the state topic (an unseen channel's bounds, ±Infinity, as null). */
  snapshot(): RangeNoveltySnapshot {
    const finite = (a: Float64Array) => Array.from(a, (x) => (Number.isFinite(x) ? x : null));
    return { min: finite(this.min), max: finite(this.max), seen: this.seen };
  }

  static restore(config: RangeNoveltyConfig, s: RangeNoveltySnapshot): RangeNovelty {
    const r = new RangeNovelty(config);
    r.min = Float64Array.from(s.min, (x) => x ?? Number.POSITIVE_INFINITY);
    r.max = Float64Array.from(s.max, (x) => x ?? Number.NEGATIVE_INFINITY);
    r.seen = s.seen;
    return r;
  }
}
