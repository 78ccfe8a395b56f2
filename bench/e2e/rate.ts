/** Rates and latency percentiles of the end-to-end benchmark. */

/** Items counted as they arrive in lumps (a fetched batch, an acknowledged write). */
export interface RateMeter {
  count: number;
  add(n: number, atMs?: number): void;
  /** Start the clock now: every lump counts, from here to the last. */
  start(atMs?: number): void;
  /**
   * Items per second up to the last lump: from `start()` when it was called, else from the first
   * lump, which is then left out of the count because the time before it (filling a first batch)
   * is not in the span.
   */
  perSecond(): number;
  /** ms from the first lump to the last. */
  spanMs(): number;
}

export function arrivalRate(): RateMeter {
  let first: { at: number; n: number } | undefined;
  let last = 0;
  const m: RateMeter = {
    count: 0,
    start(atMs = performance.now()) {
      first = { at: atMs, n: 0 };
    },
    add(n, atMs = performance.now()) {
      if (n <= 0) return;
      first ??= { at: atMs, n };
      last = atMs;
      m.count += n;
    },
    perSecond: () => (first && last > first.at ? ((m.count - first.n) * 1000) / (last - first.at) : NaN),
    spanMs: () => (first ? last - first.at : 0),
  };
  return m;
}

export interface Percentiles {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles (ms); NaN when there is nothing to rank. */
export function percentiles(xs: readonly number[]): Percentiles {
  const s = Float64Array.from(xs).sort();
  const rank = (p: number) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]);
  return { n: s.length, p50: rank(0.5), p99: rank(0.99), max: s.length === 0 ? NaN : s[s.length - 1] };
}
