/**
 * The statistical baseline: a robust z-score of each point against a bounded history of its
 * entity and channel, |x - median| / (1.4826 * MAD). It is what the diffusion model has to beat.
 * (Rousseeuw & Croux, "Alternatives to the Median Absolute Deviation", JASA 1993: 1.4826 makes
 * the MAD a consistent estimator of the standard deviation under a normal distribution.)
 */
import { ConfigError } from '../errors.ts';
import type { ScorerConfig } from '../config/schema.ts';
import type { Scorer, Window, WindowScore } from '../types.ts';

export type BaselineScorerConfig = Omit<ScorerConfig['baseline'], 'minHistory'> & {
  /** Points of history an entity needs before its scores may alert. Default 32. */
  minHistory?: number;
};

/** MAD → standard deviation under normality. */
const MAD_TO_SIGMA = 1.4826;
/** Mean absolute deviation → standard deviation under normality: sqrt(pi / 2). */
const MEAN_AD_TO_SIGMA = Math.sqrt(Math.PI / 2);
/** Scale floor for a constant history, relative to |median|: a 0.1 % move is one sigma. */
const REL_SCALE_FLOOR = 1e-3;
/** Absolute scale floor, for a history that is constantly 0. */
const ABS_SCALE_FLOOR = 1e-9;
/** z is capped so that scores stay finite (and writable to every sink). */
export const Z_CAP = 1_000;

/** A ring buffer of the last `capacity` values, mirrored in a sorted array so the median is O(1). */
export class RollingMedian {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private head = 0;
  count = 0;
  private cache: { center: number; scale: number } | null = null;

  constructor(readonly capacity: number) {
    this.ring = new Float64Array(capacity);
    this.sorted = new Float64Array(capacity);
  }

  push(x: number): void {
    if (this.count === this.capacity) {
      const at = lowerBound(this.sorted, this.count, this.ring[this.head]);
      this.sorted.copyWithin(at, at + 1, this.count); // remove the oldest value
      this.count--;
    }
    const at = lowerBound(this.sorted, this.count, x);
    this.sorted.copyWithin(at + 1, at, this.count);
    this.sorted[at] = x;
    this.count++;
    this.ring[this.head] = x;
    this.head = (this.head + 1) % this.capacity;
    this.cache = null;
  }

  median(): number {
    return this.stats().center;
  }

  /** Robust standard deviation: 1.4826 * MAD, falling back when the MAD is 0 (over half the history equal). */
  scale(): number {
    return this.stats().scale;
  }

  private stats(): { center: number; scale: number } {
    if (this.cache) return this.cache;
    const n = this.count;
    const s = this.sorted;
    const center = n === 0 ? NaN : n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    let scale = MAD_TO_SIGMA * this.mad(center);
    if (!(scale > 0)) scale = MEAN_AD_TO_SIGMA * this.meanAbsDev(center);
    if (!(scale > 0)) scale = Math.max(REL_SCALE_FLOOR * Math.abs(center), ABS_SCALE_FLOOR);
    this.cache = { center, scale };
    return this.cache;
  }

  /** Median of |x - center|: merges the two sides of the sorted array, which are sorted by distance. */
  private mad(center: number): number {
    const n = this.count;
    const s = this.sorted;
    let right = lowerBound(s, n, center);
    let left = right - 1;
    const lo = (n - 1) >> 1; // the median's rank(s) among the n distances
    const hi = n >> 1;
    let dLo = 0;
    for (let k = 0; k <= hi; k++) {
      const dl = left >= 0 ? center - s[left] : Infinity;
      const dr = right < n ? s[right] - center : Infinity;
      const d = dl <= dr ? (left--, dl) : (right++, dr);
      if (k === lo) dLo = d;
      if (k === hi) return (dLo + d) / 2;
    }
    return 0; // n === 0
  }

  private meanAbsDev(center: number): number {
    let sum = 0;
    for (let i = 0; i < this.count; i++) sum += Math.abs(this.sorted[i] - center);
    return this.count === 0 ? 0 : sum / this.count;
  }
}

/** First index in sorted[0, n) whose value is >= x. */
function lowerBound(sorted: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface EntityHistory {
  channels: Map<string, RollingMedian>;
  /** Newest timestamp fed to the history, and how many points with it were fed. */
  lastTs: number;
  atLastTs: number;
}

/**
 * Creates the baseline scorer. Per entity and channel it keeps the last `historyLength` points.
 * Each window is scored against the history as it was before the window; then the window's
 * points not seen before (by timestamp) join the history, so overlapping windows never feed a
 * point twice. Windows of many entities may come in one call; they are handled in array order.
 * Feeding by timestamp takes exactly the new points of a window whatever its hop, where a
 * fixed count of newest points would feed some twice or miss some.
 *
 * @example
 * const scorer = createBaselineScorer({ historyLength: 1024, minHistory: 64 });
 * const [s] = await scorer.score([window]); // s.score: robust z of the newest point
 */
export function createBaselineScorer(cfg: BaselineScorerConfig): Scorer {
  const { historyLength, minHistory = 32 } = cfg;
  if (!(Number.isInteger(historyLength) && historyLength >= 1)) {
    throw new ConfigError('scorer.baseline.historyLength', `must be an integer >= 1, got ${historyLength}`);
  }
  if (!(Number.isInteger(minHistory) && minHistory >= 0 && minHistory <= historyLength)) {
    throw new ConfigError('scorer.baseline.minHistory', `must be an integer in [0, historyLength=${historyLength}], got ${minHistory}; a larger value never ends the warm-up`);
  }
  const entities = new Map<string, EntityHistory>();

  const historyOf = (w: Window): RollingMedian[] => {
    let e = entities.get(w.entityId);
    if (!e) entities.set(w.entityId, (e = { channels: new Map(), lastTs: -Infinity, atLastTs: 0 }));
    return w.channels.map((name) => {
      let h = e.channels.get(name);
      if (!h) e.channels.set(name, (h = new RollingMedian(historyLength)));
      return h;
    });
  };

  const scoreOne = (w: Window): WindowScore => {
    const history = historyOf(w);
    const result = scoreAgainst(w, history);
    const warmup = Math.min(...history.map((h) => h.count)) < minHistory;
    feed(w, history, entities.get(w.entityId)!);
    return { ...result, warmup };
  };

  return {
    name: 'baseline',
    version: 'baseline-v1',
    score: async (windows) => windows.map(scoreOne),
  };
}

/** Robust z of every point against the history; NaN values (gaps) and an empty history score 0. */
function scoreAgainst(w: Window, history: RollingMedian[]): Omit<WindowScore, 'warmup'> {
  const L = w.length;
  const C = w.channels.length;
  const center = history.map((h) => h.median());
  const scale = history.map((h) => h.scale());
  const pointScores = new Float32Array(L);
  const newest = new Float64Array(C);
  for (let i = 0; i < L; i++) {
    let max = 0;
    for (let c = 0; c < C; c++) {
      const x = w.values[i * C + c]; // [L, C]
      const z = history[c].count === 0 || Number.isNaN(x) ? 0 : Math.min(Math.abs(x - center[c]) / scale[c], Z_CAP);
      if (z > max) max = z;
      if (i === L - 1) newest[c] = z;
    }
    pointScores[i] = max;
  }
  const total = newest.reduce((a, b) => a + b, 0);
  const channelContributions = Float32Array.from(newest, (z) => (total > 0 ? z / total : 0));
  return { pointScores, channelContributions, score: L > 0 ? pointScores[L - 1] : 0 };
}

/** Feeds the window's points that are newer than what the entity's history has seen. */
function feed(w: Window, history: RollingMedian[], e: EntityHistory): void {
  const C = w.channels.length;
  const prevTs = e.lastTs;
  const prevAtTs = e.atLastTs;
  let sameTsSeen = 0;
  for (let i = 0; i < w.length; i++) {
    const t = w.timestamps[i];
    if (t < prevTs) continue;
    // Unaligned series may repeat a timestamp; skip only as many as were fed before.
    if (t === prevTs && ++sameTsSeen <= prevAtTs) continue;
    for (let c = 0; c < C; c++) {
      const x = w.values[i * C + c];
      if (!Number.isNaN(x)) history[c].push(x);
    }
    if (t === e.lastTs) e.atLastTs++;
    else {
      e.lastTs = t;
      e.atLastTs = 1;
    }
  }
}
