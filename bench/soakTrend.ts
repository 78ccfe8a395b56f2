/**
 * Whether a soak's series are flat after warm-up: a least-squares slope per series over the
 * samples after warm-up, in units per hour and as a fraction of the series' mean, and a verdict.
 *
 * The rule (one for every series): a series is **growing** when its fitted rise over one hour is
 * more than 10 % of its mean after warm-up AND more than the series' absolute tolerance
 * (`SERIES[k].tolerancePerHour`), and the floor rises: the lowest value of the second half of the
 * samples after warm-up is above the lowest of the first half by more than the series' floor
 * tolerance (`SERIES[k].floorTolerance`). The floor is what a leak lifts
 * (the heap after each collection, a compacted topic after each cleaning), and it keeps a
 * sawtooth from reading as growth from where the fit happens to start and stop, as long as each
 * half spans a whole tooth: the state topic's is its `segment.ms`, 10 minutes, so judge at least
 * 20 minutes after warm-up. Otherwise the series is **flat**. A leak rises steadily and meets
 * all three.
 *
 * @example
 * const trends = seriesTrends(samples, warmupEndMs); // [{ key: 'rssBytes', slopePerHour, ... }]
 */

/** One sample of the soak: epoch ms and the value of each series (null: not read this time). */
export interface SoakSample {
  t: number;
  rssBytes: number | null;
  /** The main thread's V8 heap used when sampled: a garbage-collection sawtooth (not judged). */
  heapUsedBytes: number | null;
  /** The main thread's V8 heap right after its latest major collection (`diffwatch_heap_live_bytes`); null before the first. */
  heapLiveBytes?: number | null;
  /**
   * Not judged: where RSS outside the used heap goes. The main thread's V8 heap as committed
   * (used or not), its young generation's share of it, and memory held by ArrayBuffers and Buffers.
   */
  heapTotalBytes?: number | null;
  newSpaceTotalBytes?: number | null;
  externalBytes?: number | null;
  /** Not judged: the scoring workers' own V8 heaps (used, committed) and the wasm backend's memory, summed over workers. */
  workerHeapUsedBytes?: number | null;
  workerHeapTotalBytes?: number | null;
  workerWasmBytes?: number | null;
  tensors: number | null;
  lagMessages: number | null;
  stateTopicBytes: number | null;
  /** Not judged: how far the service got (windows durable in every sink). */
  windowsScored: number | null;
  /** Entities whose model is trained and whose detector has warmed up. */
  entitiesScoring: number | null;
  /** The machine's 1-minute load average. */
  load1: number | null;
  /** Not judged: the service's CPU time and its time in scorer calls so far, seconds (how much headroom it has). */
  cpuSeconds?: number | null;
  modelCallSeconds?: number | null;
}

export type SeriesKey = 'rssBytes' | 'heapLiveBytes' | 'workerHeapTotalBytes' | 'tensors' | 'lagMessages' | 'stateTopicBytes';

/**
 * The judged series, with their display unit, the rise per hour below which they count as flat
 * whatever their mean, and the rise of the floor (in the series' units) that is not yet growth.
 */
export const SERIES: readonly { key: SeriesKey; title: string; unit: 'MiB' | ''; tolerancePerHour: number; floorTolerance: number }[] = [
  { key: 'rssBytes', title: 'RSS (main thread and workers)', unit: 'MiB', tolerancePerHour: 0, floorTolerance: 0 },
  // After a major collection, not as sampled: the used heap is a sawtooth of up to the young
  // generation's 16 MiB, whose fitted slope depends on where the last samples fall.
  { key: 'heapLiveBytes', title: 'V8 heap live after major GC (main thread)', unit: 'MiB', tolerancePerHour: 0, floorTolerance: 0 },
  // Committed, not used: what a worker's heap adds to RSS (a run from before this series has none).
  { key: 'workerHeapTotalBytes', title: 'V8 heap committed (scoring workers)', unit: 'MiB', tolerancePerHour: 0, floorTolerance: 0 },
  { key: 'tensors', title: 'TF.js tensors (scoring workers)', unit: '', tolerancePerHour: 0, floorTolerance: 0 },
  // A few messages in flight between two commits are not a backlog.
  { key: 'lagMessages', title: 'Consumer lag (messages)', unit: '', tolerancePerHour: 100, floorTolerance: 0 },
  // The floor is read on the first sample after a cleaning: the compacted records plus up to one
  // sample interval of new writes (10 s × ~40 KiB/s in the 30-minute run), so 1 MiB of jitter.
  { key: 'stateTopicBytes', title: 'State topic log segments', unit: 'MiB', tolerancePerHour: 0, floorTolerance: 1024 * 1024 },
];

/** A fitted rise above this fraction of the mean per hour is growth. */
export const GROWTH_PER_HOUR = 0.1;

export interface Trend {
  key: SeriesKey;
  /** Values at the first sample, the first sample after warm-up, and the last sample (NaN: never read). */
  start: number;
  afterWarmup: number;
  end: number;
  mean: number;
  /** Least-squares slope after warm-up, units per hour. */
  slopePerHour: number;
  /** slopePerHour / mean (NaN when the mean is 0). */
  relativePerHour: number;
  /** Lowest value of the second half after warm-up minus the lowest of the first half. */
  floorRise: number;
  verdict: 'flat' | 'growing';
}

const HOUR_MS = 3_600_000;

/** Least-squares slope of y on x. 0 with fewer than two distinct x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

/** The trend of one series over the samples at or after `warmupEndMs`. */
export function trendOf(samples: readonly SoakSample[], key: SeriesKey, warmupEndMs: number, tolerancePerHour = 0, floorTolerance = 0): Trend {
  const read = samples.filter((s) => s[key] != null);
  const after = read.filter((s) => s.t >= warmupEndMs);
  const ys = after.map((s) => s[key] as number);
  const mean = ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : Number.NaN;
  const slopePerHour = slope(after.map((s) => (s.t - warmupEndMs) / HOUR_MS), ys);
  const half = Math.floor(ys.length / 2);
  const floorRise = half === 0 ? 0 : Math.min(...ys.slice(-half)) - Math.min(...ys.slice(0, half));
  const rise = Math.max(0, slopePerHour);
  const growing = rise > GROWTH_PER_HOUR * Math.abs(mean) && rise > tolerancePerHour && floorRise > floorTolerance;
  return {
    key,
    start: (read[0]?.[key] as number | undefined) ?? Number.NaN,
    afterWarmup: ys[0] ?? Number.NaN,
    end: ys[ys.length - 1] ?? Number.NaN,
    mean,
    slopePerHour,
    relativePerHour: mean === 0 ? Number.NaN : slopePerHour / mean,
    floorRise,
    verdict: growing ? 'growing' : 'flat',
  };
}

/** Every judged series' trend. */
export function seriesTrends(samples: readonly SoakSample[], warmupEndMs: number): Trend[] {
  return SERIES.map((s) => trendOf(samples, s.key, warmupEndMs, s.tolerancePerHour, s.floorTolerance));
}

/**
 * End of warm-up: `settleMs` after the first sample at which every entity is scoring (its model
 * trained and its detector warmed up); with none such, the last sample's time (nothing is judged).
 */
export function warmupEnd(samples: readonly SoakSample[], entities: number, settleMs: number): number {
  const ready = samples.find((s) => (s.entitiesScoring ?? 0) >= entities);
  return ready ? ready.t + settleMs : (samples[samples.length - 1]?.t ?? 0);
}
