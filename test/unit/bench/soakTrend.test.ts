/** The soak's verdict rule: a steady rise is growth; noise, a plateau and a sawtooth are flat. */
import { describe, expect, it } from 'vitest';
import { slope, trendOf, warmupEnd, type SoakSample } from '../../../bench/soakTrend.ts';
import { mulberry32 } from '../../../src/random.ts';

const MIN = 60_000;
const at = (t: number, rssBytes: number, entitiesScoring = 4): SoakSample => ({ t, rssBytes, heapUsedBytes: 0, tensors: 0, lagMessages: 0, stateTopicBytes: 0, windowsScored: 0, entitiesScoring, load1: 1 });
/** Samples every 10 s for `minutes`, value f(minute). */
const series = (minutes: number, f: (min: number) => number) => Array.from({ length: minutes * 6 + 1 }, (_, i) => at(i * 10_000, f(i / 6)));

describe('slope', () => {
  it('is the least-squares slope, 0 with fewer than two points', () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2, 12);
    expect(slope([5], [1])).toBe(0);
    expect(slope([2, 2], [1, 9])).toBe(0);
  });
});

describe('trendOf', () => {
  it('calls a steady rise of 1 % of the mean per minute growing, with its slope per hour', () => {
    const tr = trendOf(series(30, (m) => 100 + m), 'rssBytes', 0);
    expect(tr.slopePerHour).toBeCloseTo(60, 6);
    expect(tr.relativePerHour).toBeCloseTo(60 / 115, 6);
    expect([tr.start, tr.afterWarmup, tr.end]).toEqual([100, 100, 130]);
    expect(tr.verdict).toBe('growing');
  });

  it('reads a series a run did not sample (a run from before it existed) as never read, not as zeros', () => {
    const tr = trendOf(series(30, (m) => 100 + m), 'workerHeapTotalBytes', 0);
    expect([tr.start, tr.afterWarmup, tr.end, tr.mean]).toEqual([NaN, NaN, NaN, NaN]);
    expect(tr.verdict).toBe('flat');
  });

  it('calls noise around a level flat', () => {
    const rng = mulberry32(3);
    expect(trendOf(series(30, () => 200 + 5 * rng()), 'rssBytes', 0).verdict).toBe('flat');
  });

  it('judges only the samples after warm-up: a climb to a plateau is flat', () => {
    const tr = trendOf(series(30, (m) => (m < 5 ? 20 * m : 100)), 'rssBytes', 5 * MIN);
    expect(tr.start).toBe(0);
    expect(tr.afterWarmup).toBe(100);
    expect(tr.slopePerHour).toBe(0);
    expect(tr.verdict).toBe('flat');
  });

  it('calls a sawtooth (a segment filling, then compacted) flat, wherever the fit starts and stops', () => {
    // Period 10 min, from 0.1 to 2, cleaned at minutes 10.5 and 20.5 (as in the 30-minute run);
    // judged from minute 5 to 30: the fit alone sees a rise, and the last third (from minute
    // 21.7) would miss the last cleaning.
    for (const from of [4, 5]) {
      const tr = trendOf(series(30, (m) => 0.1 + 0.19 * ((m + 9.5) % 10)), 'rssBytes', from * MIN);
      expect(tr.slopePerHour, `from minute ${from}`).toBeGreaterThan(0);
      expect(tr.verdict, `from minute ${from}`).toBe('flat');
    }
  });

  it('calls a sawtooth on a rising floor (a leak under garbage collection) growing', () => {
    expect(trendOf(series(30, (m) => 100 + m + 20 * (m % 2)), 'rssBytes', 4 * MIN).verdict).toBe('growing');
  });

  it('calls a rise below the absolute tolerance flat', () => {
    expect(trendOf(series(30, (m) => 10 + m), 'rssBytes', 0, 100).verdict).toBe('flat');
  });

  it('calls a sawtooth whose floor jitters within the floor tolerance flat, and one whose floor climbs past it growing', () => {
    // Cleaned every 10 min; the floor of the second half is read 0.3 above that of the first.
    const jitter = (m: number) => 0.1 + 0.19 * ((m + 9.5) % 10) + (m > 20 ? 0.3 : 0);
    expect(trendOf(series(30, jitter), 'rssBytes', 4 * MIN, 0, 0.5).verdict).toBe('flat');
    expect(trendOf(series(30, (m) => jitter(m) + 0.1 * m), 'rssBytes', 4 * MIN, 0, 0.5).verdict).toBe('growing');
  });

  it('skips samples where the series was not read', () => {
    const samples = series(10, () => 7).map((s, i) => (i % 2 ? { ...s, rssBytes: null } : s));
    expect(trendOf(samples, 'rssBytes', 0)).toMatchObject({ mean: 7, verdict: 'flat' });
  });
});

describe('warmupEnd', () => {
  it('is the settle time after every entity is scoring, or the last sample when they never all are', () => {
    const samples = [at(0, 1, 0), at(10_000, 1, 3), at(20_000, 1, 4), at(30_000, 1, 4)];
    expect(warmupEnd(samples, 4, 60_000)).toBe(80_000);
    expect(warmupEnd(samples, 5, 60_000)).toBe(30_000);
  });
});
