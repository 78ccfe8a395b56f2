/** What `diffwatch top` shows: states, scores against thresholds, open alerts, and rates from two scrapes. */
import { describe, expect, it } from 'vitest';
import { displayState, entityRows, formatNumber, formatRate, formatTime, ratePerSecond, throughput, type LatestAlert, type LatestScore } from '../../../src/top/topModel.ts';

const score = (entity: string, o: Partial<LatestScore> = {}): LatestScore => ({ entity, time: Date.UTC(2024, 0, 1), state: 'normal', score: 1, threshold: 6, modelVersion: 'm1', ...o });
const alert = (entity: string, o: Partial<LatestAlert> = {}): LatestAlert => ({ entity, kind: 'model', time: Date.UTC(2024, 0, 1), state: 'open', severity: 'critical', startTime: Date.UTC(2023, 11, 31), ...o });

describe('displayState', () => {
  it('reads the point state; an entity without a model is in its cold start unless the window is an anomaly', () => {
    expect(displayState({ state: 'normal', modelVersion: 'm1' })).toBe('normal');
    expect(displayState({ state: 'warmup', modelVersion: 'm1' })).toBe('warm-up');
    expect(displayState({ state: 'gap', modelVersion: 'm1' })).toBe('gap');
    expect(displayState({ state: 'anomaly', modelVersion: 'm1' })).toBe('anomaly');
    expect(displayState({ state: 'warmup', modelVersion: 'none' })).toBe('cold start');
    expect(displayState({ state: 'normal', modelVersion: 'none' })).toBe('cold start');
    expect(displayState({ state: 'anomaly', modelVersion: 'none' })).toBe('anomaly');
    expect(displayState({ state: 'something new', modelVersion: 'm1' })).toBe('unknown');
  });
});

describe('entityRows', () => {
  it('gives each entity its latest score, threshold and model version; null where the point has none', () => {
    const rows = entityRows([score('a', { score: 2.5, threshold: 7 }), score('b', { state: 'warmup', modelVersion: 'none', score: undefined, threshold: undefined })], []);
    expect(rows).toEqual([
      { entity: 'a', state: 'normal', score: 2.5, threshold: 7, modelVersion: 'm1', windowTime: Date.UTC(2024, 0, 1), openAlerts: [] },
      { entity: 'b', state: 'cold start', score: null, threshold: null, modelVersion: 'none', windowTime: Date.UTC(2024, 0, 1), openAlerts: [] },
    ]);
  });

  it('counts an incident as open while the latest event of its (entity, kind) is not resolved', () => {
    const rows = entityRows(
      [score('a'), score('b')],
      [alert('a', { kind: 'model', state: 'resolved' }), alert('a', { kind: 'silence', state: 'ongoing', severity: 'warning' }), alert('b', { state: 'resolved' })],
    );
    const a = rows.find((r) => r.entity === 'a')!;
    expect(a.openAlerts).toEqual([{ kind: 'silence', severity: 'warning', since: Date.UTC(2023, 11, 31) }]);
    expect(rows.find((r) => r.entity === 'b')!.openAlerts).toEqual([]);
  });

  it('lists the open alerts of an entity most severe first, and keeps an entity known only from its alerts', () => {
    const rows = entityRows([], [alert('x', { kind: 'silence', severity: 'info' }), alert('x', { kind: 'model', severity: 'critical', startTime: undefined })]);
    expect(rows).toEqual([
      {
        entity: 'x',
        state: 'unknown',
        score: null,
        threshold: null,
        modelVersion: null,
        windowTime: null,
        openAlerts: [
          { kind: 'model', severity: 'critical', since: null },
          { kind: 'silence', severity: 'info', since: Date.UTC(2023, 11, 31) },
        ],
      },
    ]);
  });

  it('puts anomalies first, then entities with open alerts, then the rest by name', () => {
    const rows = entityRows([score('d'), score('c'), score('b', { state: 'anomaly' }), score('a')], [alert('c', { state: 'ongoing' })]);
    expect(rows.map((r) => r.entity)).toEqual(['b', 'c', 'a', 'd']);
  });
});

describe('rates from two scrapes', () => {
  it('is the counter delta over the time between the scrapes, per second', () => {
    expect(ratePerSecond(100, 350, 500)).toBe(500);
    expect(ratePerSecond(100, 100, 1_000)).toBe(0);
  });

  it('is unknown on the first scrape, with no time between, or after a counter reset (a restarted service)', () => {
    expect(ratePerSecond(undefined, 10, 1_000)).toBeNull();
    expect(ratePerSecond(10, 20, 0)).toBeNull();
    expect(ratePerSecond(500, 20, 1_000)).toBeNull();
  });

  it('gives readings/s and windows/s from consecutive scrapes', () => {
    const first = { at: 10_000, readings: 1_000, windows: 900, lag: 50 };
    const second = { at: 12_000, readings: 5_000, windows: 4_900, lag: 0 };
    expect(throughput(undefined, first)).toEqual({ readingsPerSecond: null, windowsPerSecond: null });
    expect(throughput(first, second)).toEqual({ readingsPerSecond: 2_000, windowsPerSecond: 2_000 });
  });
});

describe('formatting', () => {
  it('shows scores with 2 decimals, large ones in exponent form, and a dash when absent', () => {
    expect(formatNumber(67.1971206665039)).toBe('67.20');
    expect(formatNumber(123_456.7)).toBe('1.235e+5');
    expect(formatNumber(null)).toBe('-');
    expect(formatNumber(Number.NaN)).toBe('-');
    expect(formatRate(12.345)).toBe('12.3');
    expect(formatRate(null)).toBe('-');
    expect(formatTime(Date.UTC(2014, 1, 19, 14, 25))).toBe('2014-02-19 14:25:00');
    expect(formatTime(null)).toBe('-');
  });
});
