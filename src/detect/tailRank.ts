/**
 * Calibration by rank: how rare a raw score is among the scores this entity has produced, as a
 * surprise in decimal digits, so that raw scores of different scales (one model per entity, one
 * error distribution per series) land on one scale that a single threshold can cut.
 *
 *   p        = (#{past scores >= x} + 1) / (n + 1)      empirical tail probability, never 0
 *   surprise = -log10 p                                 0 for the smallest score, log10(n+1) for a record
 *            + excessWeight · log10(x / max)            only for a record (x > every past score)
 *
 * Why a rank and not a Gaussian fit of the scores (`calibration.ts`): reconstruction errors are
 * heavy-tailed, and a Gaussian on their logarithm still ranks an ordinary burst of a noisy
 * series as many standard deviations out. The rank needs no shape. Its one blind spot is above
 * the maximum, where every record would tie at log10(n+1); the excess term orders records by how
 * far they break the previous one.
 *
 * @example
 * const rank = new TailRank({ ...TAIL_RANK_DEFAULTS, minHistory: 50 });
 * for (const x of scores) {
 *   const s = rank.update(x); // 0 until 50 scores were seen, then -log10 of the tail share
 * }
 */
import { ConfigError, DiffwatchError } from '../errors.ts';

export interface TailRankConfig {
  /** Scores seen before a surprise is given (0 before): too few make every score a record. */
  minHistory: number;
  /** Scores kept, the newest; older ones are forgotten in arrival order (memory per entity: 16 bytes each). */
  capacity: number;
  /** Digits of surprise per decade by which a record exceeds the previous maximum. */
  excessWeight: number;
}

export const TAIL_RANK_DEFAULTS: Readonly<TailRankConfig> = Object.freeze({
  minHistory: 50,
  // About 17 days of 5-minute points: long enough for a stable 1e-3 tail, short enough to
  // follow a series whose error level drifts (and 80 kB per entity).
  capacity: 5_000,
  excessWeight: 3,
});

export function validateTailRankConfig(cfg: TailRankConfig, prefix = 'detect.tailRank'): void {
  if (!(Number.isInteger(cfg.minHistory) && cfg.minHistory >= 1)) throw new ConfigError(`${prefix}.minHistory`, `must be an integer >= 1, got ${cfg.minHistory}`);
  if (!(Number.isInteger(cfg.capacity) && cfg.capacity >= cfg.minHistory)) throw new ConfigError(`${prefix}.capacity`, `must be an integer >= minHistory (${cfg.minHistory}), got ${cfg.capacity}`);
  if (!(cfg.excessWeight >= 0 && Number.isFinite(cfg.excessWeight))) throw new ConfigError(`${prefix}.excessWeight`, `must be a finite number >= 0, got ${cfg.excessWeight}`);
}

export interface TailRankSnapshot {
  /** Float64 scores, oldest first, base64. */
  scores: string;
}

export class TailRank {
  /** Kept scores in ascending order, `sorted[0..count)`. */
  private readonly sorted: Float64Array;
  /** The same scores in arrival order (a ring), to know which one to forget. */
  private readonly arrival: Float64Array;
  private count = 0;
  private head = 0;

  constructor(readonly config: TailRankConfig = TAIL_RANK_DEFAULTS) {
    validateTailRankConfig(config);
    this.sorted = new Float64Array(config.capacity);
    this.arrival = new Float64Array(config.capacity);
  }

  /** Scores held. */
  get size(): number {
    return this.count;
  }

  /** The surprise of `x` against the scores held, without learning it. */
  surprise(x: number): number {
    const n = this.count;
    if (n < this.config.minHistory) return 0;
    const atLeast = n - this.lowerBound(x);
    let s = -Math.log10((atLeast + 1) / (n + 1));
    const max = this.sorted[n - 1];
    if (atLeast === 0 && max > 0) s += this.config.excessWeight * Math.log10(x / max);
    return s;
  }

  /** Takes one finite score: returns its surprise against the past, then keeps it. */
  update(x: number): number {
    if (!Number.isFinite(x)) throw new DiffwatchError('SCORE_NOT_FINITE', `tail rank: score must be finite, got ${x}`, { coords: { field: 'score' } });
    const s = this.surprise(x);
    this.add(x);
    return s;
  }

  private add(x: number): void {
    const cap = this.config.capacity;
    if (this.count === cap) this.remove(this.arrival[this.head]);
    this.arrival[this.head] = x;
    this.head = (this.head + 1) % cap;
    // Insertion into a sorted typed array: a memmove of at most `capacity` doubles per score.
    const at = this.lowerBound(x);
    this.sorted.copyWithin(at + 1, at, this.count);
    this.sorted[at] = x;
    this.count++;
  }

  private remove(x: number): void {
    const at = this.lowerBound(x);
    this.sorted.copyWithin(at, at + 1, this.count);
    this.count--;
  }

  /** First index whose score is >= x. */
  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  /**
   * The scores held, oldest first, for the state topic: float64 in base64, exact and about half
   * the size of JSON numbers (5,000 scores: 53 kB).
   */
  snapshot(): TailRankSnapshot {
    const cap = this.config.capacity;
    const first = (this.head - this.count + cap) % cap;
    const scores = Float64Array.from({ length: this.count }, (_, i) => this.arrival[(first + i) % cap]);
    return { scores: Buffer.from(scores.buffer).toString('base64') };
  }

  /** A rank that answers exactly as the one that took `snapshot`. */
  static restore(config: TailRankConfig, s: TailRankSnapshot): TailRank {
    const r = new TailRank(config);
    const bytes = Buffer.from(s.scores, 'base64');
    const scores = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    for (const x of scores) r.add(x);
    return r;
  }
}
