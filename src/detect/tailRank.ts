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
 * What is kept: the scores as 16-bit codes on a log scale (`scoreCode`: 4,096 per decade, so two
 * scores share a code only when they differ by less than 0.06 %), plus the exact value of every
 * score that can still become the maximum (10 kB per entity instead of 80 kB of float64). Whether
 * a score is a record, and by how much, is therefore exact; below the maximum, a past score up to
 * 0.06 % smaller than x shares its code and counts as ">= x", so the surprise can only be a
 * little lower than with exact values. Scores at or below 1e-8 all share code 0.
 *
 * @example
 * const rank = new TailRank({ ...TAIL_RANK_DEFAULTS, minHistory: 50 });
 * for (const x of scores) {
 *   const s = rank.update(x); // 0 until 50 scores were seen, then -log10 of the tail share
 * }
 */
import { ConfigError, DiffwatchError } from '../errors.ts';
import { fromBase64, toBase64 } from './typedBase64.ts';

export interface TailRankConfig {
  /** Scores seen before a surprise is given (0 before): too few make every score a record. */
  minHistory: number;
  /** Scores kept, the newest; older ones are forgotten in arrival order (2 bytes each, see scoreCode). */
  capacity: number;
  /** Digits of surprise per decade by which a record exceeds the previous maximum. */
  excessWeight: number;
}

export const TAIL_RANK_DEFAULTS: Readonly<TailRankConfig> = Object.freeze({
  minHistory: 50,
  // About 17 days of 5-minute points: long enough for a stable 1e-3 tail, short enough to
  // follow a series whose error level drifts (10 kB per entity).
  capacity: 5_000,
  excessWeight: 3,
});

export function validateTailRankConfig(cfg: TailRankConfig, prefix = 'detect.tailRank'): void {
  if (!(Number.isInteger(cfg.minHistory) && cfg.minHistory >= 1)) throw new ConfigError(`${prefix}.minHistory`, `must be an integer >= 1, got ${cfg.minHistory}`);
  if (!(Number.isInteger(cfg.capacity) && cfg.capacity >= cfg.minHistory)) throw new ConfigError(`${prefix}.capacity`, `must be an integer >= minHistory (${cfg.minHistory}), got ${cfg.capacity}`);
  if (!(cfg.excessWeight >= 0 && Number.isFinite(cfg.excessWeight))) throw new ConfigError(`${prefix}.excessWeight`, `must be a finite number >= 0, got ${cfg.excessWeight}`);
}

/** Codes per decade of `scoreCode`: adjacent codes are 10^(1/4096) − 1 ≈ 0.056 % apart. */
export const CODES_PER_DECADE = 4_096;
/** The smallest score with a code of its own; anything at or below it (0, negatives) is code 0. */
const SMALLEST = 1e-8;
const MAX_CODE = 0xffff;

/**
 * A score as a 16-bit code that keeps its order: 0 for scores at or below 1e-8, then 4,096 codes
 * per decade up to about 1e8 (larger scores share the top code). Scale-free: multiplying a score
 * by 10^k adds 4,096·k to its code (within the range).
 */
export function scoreCode(x: number): number {
  if (!(x > SMALLEST)) return 0;
  const c = Math.round((Math.log10(x) + 8) * CODES_PER_DECADE);
  return Math.min(MAX_CODE, Math.max(1, c));
}

/** A representative score of a code (the inverse of `scoreCode` inside its range). */
export function codeScore(code: number): number {
  return code === 0 ? 0 : 10 ** (code / CODES_PER_DECADE - 8);
}

/**
 * Exact maxima kept at most: a sliding maximum needs every score larger than all later ones, which
 * is a handful on real scores (about ln n) but grows on a long decreasing run; past this many the
 * newest candidate is dropped, and until it has left the window the maximum is taken from the
 * codes instead (0.03 % off at most).
 */
const MAX_CANDIDATES = 64;

export interface TailRankSnapshot {
  /** The scores' codes (`scoreCode`), oldest first, uint16 little-endian, base64. */
  codes?: string;
  /** Exact scores that can still become the maximum, oldest (largest) first … */
  maxima?: number[];
  /** … and where each is in `codes`. */
  maximaAt?: number[];
  /** Where in `codes` a dropped candidate is (see MAX_CANDIDATES), or null. */
  droppedAt?: number | null;
  /**
   * The format written before the codes: float64 scores, oldest first, base64. Read (and
   * converted) so that a deployment's saved state survives the upgrade.
   */
  scores?: string;
}

export class TailRank {
  /** The kept scores' codes in arrival order (a ring), `count` of them ending before `head`. */
  private readonly codes: Uint16Array;
  private count = 0;
  private head = 0;
  /** Scores taken since the start (or restore): the sequence number of the next one. */
  private seq = 0;
  /** Sliding maximum: exact scores larger than every later one, oldest first, with their sequence numbers. */
  private maxima: number[] = [];
  private maximaSeq: number[] = [];
  /** Sequence number of the newest dropped candidate, or -1. */
  private droppedSeq = -1;

  constructor(readonly config: TailRankConfig = TAIL_RANK_DEFAULTS) {
    validateTailRankConfig(config);
    this.codes = new Uint16Array(config.capacity);
  }

  /** Scores held. */
  get size(): number {
    return this.count;
  }

  /** The surprise of `x` against the scores held, without learning it. */
  surprise(x: number): number {
    const n = this.count;
    if (n < this.config.minHistory) return 0;
    const max = this.max();
    // Above the maximum nothing is >= x; at or below it the maximum itself is.
    const atLeast = x > max ? 0 : Math.max(1, this.countAtLeast(scoreCode(x)));
    let s = -Math.log10((atLeast + 1) / (n + 1));
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
    if (this.count === cap) {
      // The oldest score leaves: drop it from the maxima if it is one.
      if (this.maximaSeq[0] === this.seq - cap) {
        this.maxima.shift();
        this.maximaSeq.shift();
      }
      this.count--;
    }
    this.codes[this.head] = scoreCode(x);
    this.head = (this.head + 1) % cap;
    this.count++;
    while (this.maxima.length > 0 && this.maxima[this.maxima.length - 1] <= x) {
      this.maxima.pop();
      this.maximaSeq.pop();
    }
    if (this.maxima.length < MAX_CANDIDATES) {
      this.maxima.push(x);
      this.maximaSeq.push(this.seq);
    } else this.droppedSeq = this.seq;
    this.seq++;
  }

  /** The largest score held: exact, unless a dropped candidate may be it (then from the codes). */
  private max(): number {
    const exact = this.maxima.length > 0 ? this.maxima[0] : Number.NEGATIVE_INFINITY;
    const oldest = this.seq - this.count;
    const droppedHeld = this.droppedSeq >= oldest && !(this.maximaSeq[0] < this.droppedSeq);
    return droppedHeld ? Math.max(exact, codeScore(this.maxCode())) : exact;
  }

  /** Scores held whose code is at least `code`: one pass over the ring (at most `capacity` codes). */
  private countAtLeast(code: number): number {
    let k = 0;
    for (let i = 0; i < this.count; i++) if (this.codes[i] >= code) k++;
    return k;
  }

  private maxCode(): number {
    let m = 0;
    for (let i = 0; i < this.count; i++) if (this.codes[i] > m) m = this.codes[i];
    return m;
  }

  /** The codes held, oldest first, and the maxima, for the state topic (5,000 scores: 13 kB). */
  snapshot(): TailRankSnapshot {
    const cap = this.config.capacity;
    const first = (this.head - this.count + cap) % cap;
    const codes = Uint16Array.from({ length: this.count }, (_, i) => this.codes[(first + i) % cap]);
    const at = (seq: number) => seq - (this.seq - this.count);
    return {
      codes: toBase64(codes),
      maxima: [...this.maxima],
      maximaAt: this.maximaSeq.map(at),
      droppedAt: this.droppedSeq >= this.seq - this.count ? at(this.droppedSeq) : null,
    };
  }

  /** A rank that answers exactly as the one that took `snapshot` (or, from the float64 format, as one that took its scores). */
  static restore(config: TailRankConfig, s: TailRankSnapshot): TailRank {
    const r = new TailRank(config);
    if (s.scores !== undefined) {
      for (const x of fromBase64(s.scores, Float64Array)) r.add(x);
      return r;
    }
    const codes = fromBase64(s.codes ?? '', Uint16Array);
    // Scores beyond a smaller capacity are the oldest: they would have been forgotten.
    const skip = Math.max(0, codes.length - config.capacity);
    r.codes.set(codes.subarray(skip));
    r.count = codes.length - skip;
    r.head = r.count % config.capacity;
    r.seq = r.count;
    (s.maximaAt ?? []).forEach((at, i) => {
      if (at < skip) return;
      r.maxima.push(s.maxima![i]);
      r.maximaSeq.push(at - skip);
    });
    r.droppedSeq = s.droppedAt == null || s.droppedAt < skip ? -1 : s.droppedAt - skip;
    return r;
  }
}
