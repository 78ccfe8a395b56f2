/**
 * The generator's invariants: what each anomaly type promises about the data it writes, checked
 * on every case index the CI subset uses and a few more.
 */
import { describe, expect, it } from 'vitest';
import { channelKinds } from '../../../../src/model/channelKinds.ts';
import { ALL_TYPES, CHANNEL_TYPES, cleanValue, columnRange, makeBaseSeries, makeCase, SYNTHETIC_DEFAULTS as K, typesOf, type BaseSeries, type Layout } from '../../../../src/eval/synthetic/index.ts';

const CASES = [0, 1, 2, 3];
const column = (b: { values: Float64Array; channels: string[] }, c: number) => Array.from({ length: b.values.length / b.channels.length }, (_, t) => b.values[t * b.channels.length + c]);
function corr(x: number[], y: number[]): number {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const [mx, my] = [mean(x), mean(y)];
  let [sxy, sxx, syy] = [0, 0, 0];
  for (let i = 0; i < x.length; i++) [sxy, sxx, syy] = [sxy + (x[i] - mx) * (y[i] - my), sxx + (x[i] - mx) ** 2, syy + (y[i] - my) ** 2];
  return sxy / Math.sqrt(sxx * syy);
}
const bases = (layout: Layout): BaseSeries[] => CASES.map((i) => makeBaseSeries(0, layout, i, K));

describe('synthetic base series', () => {
  it('is seeded: the same seed gives the same numbers, another seed other numbers', () => {
    expect(makeBaseSeries(7, 'multivariate', 1, K).values).toEqual(makeBaseSeries(7, 'multivariate', 1, K).values);
    expect(makeBaseSeries(8, 'multivariate', 1, K).values).not.toEqual(makeBaseSeries(7, 'multivariate', 1, K).values);
    expect(makeCase(makeBaseSeries(7, 'univariate', 0, K), 'spike4', 7, K).segments).toEqual(makeCase(makeBaseSeries(7, 'univariate', 0, K), 'spike4', 7, K).segments);
  });

  it('has real 5-minute timestamps from Monday 2024-01-01 00:00 UTC, 8 days to train and 7 to test', () => {
    const b = makeBaseSeries(0, 'univariate', 0, K);
    expect(b.rows).toEqual({ fit: 2016, train: 2304, test: 2016, total: 4320 });
    expect(new Date(b.timestamps[0]).toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(new Date(b.timestamps[0]).getUTCDay()).toBe(1);
    expect(b.timestamps[1] - b.timestamps[0]).toBe(300_000);
  });

  it('multivariate: 3 analogue channels, at least 20 binary 0/1 commands, and constants, by the suite\'s own channel kinds', () => {
    for (const b of bases('multivariate')) {
      const kinds = channelKinds(b.values.subarray(0, b.rows.fit * b.channels.length), b.channels.length);
      expect(kinds.slice(0, 3)).toEqual(['analogue', 'analogue', 'analogue']);
      expect(kinds.filter((k) => k === 'binary').length).toBeGreaterThanOrEqual(20);
      expect(kinds.filter((k) => k === 'constant').length).toBe(K.constantChannels);
      b.channels.forEach((name, c) => {
        if (name.startsWith('cmd')) expect(new Set(column(b, c))).toEqual(new Set([0, 1]));
      });
    }
  });
  it('fleet: the main channel and unrelated analogue channels that do not follow it, beside flags and constants', () => {
    for (const b of bases('fleet')) {
      const C = b.channels.length;
      const kinds = channelKinds(b.values.subarray(0, b.rows.fit * C), C);
      expect(kinds.slice(0, 1 + K.unrelatedChannels).every((k) => k === 'analogue')).toBe(true);
      expect(kinds.filter((k) => k === 'binary').length).toBeGreaterThanOrEqual(2);
      expect(kinds).toContain('constant');
      // No unrelated channel tracks a1: |corr| of their first differences stays small.
      const diff = (c: number) => {
        const col = column(b, c);
        return col.slice(1, b.rows.fit).map((x, t) => x - col[t]);
      };
      const a1 = diff(0);
      for (let c = 1; c <= K.unrelatedChannels; c++) expect(Math.abs(corr(a1, diff(c))), b.channels[c]).toBeLessThan(0.1);
    }
  });
});

describe('synthetic anomalies', () => {
  it('contextual spikes: exactly kσ above the clean value at their phase, in the lower half of the cycle, inside the training range', () => {
    for (const layout of ['univariate', 'multivariate', 'fleet'] as const) {
      for (const b of bases(layout)) {
        const C = b.channels.length;
        const c = b.main.channel;
        const range = columnRange(b.values, C, c, 0, b.rows.train);
        for (const k of [3, 4, 5]) {
          const x = makeCase(b, `spike${k}`, 0, K);
          expect(x.segments.length).toBeGreaterThanOrEqual(4);
          for (const { start, end } of x.segments) {
            expect(end).toBe(start);
            expect(start).toBeGreaterThanOrEqual(b.rows.train);
            const v = x.values[start * C + c];
            expect((v - cleanValue(b.main, start)) / b.main.unit).toBeCloseTo(k, 9);
            expect(b.main.daily[start]).toBeLessThan(0);
            expect(v).toBeGreaterThanOrEqual(range.min);
            expect(v).toBeLessThanOrEqual(range.max);
          }
          // Nothing else moved.
          const changed = Array.from(x.values).flatMap((v, i) => (v !== b.values[i] ? [Math.floor(i / C)] : []));
          expect(changed).toEqual(x.segments.map((s) => s.start));
        }
      }
    }
  });

  it('every type changes only its segments (and their channel), inside the test part, with labels and margins to match', () => {
    for (const layout of ['univariate', 'multivariate'] as const) {
      for (const b of bases(layout).slice(0, 2)) {
        const C = b.channels.length;
        for (const type of typesOf(layout)) {
          const x = makeCase(b, type, 0, K);
          const inSegment = (t: number) => x.segments.some((s) => t >= s.start && t <= s.end);
          for (let i = 0; i < x.values.length; i++) if (x.values[i] !== b.values[i]) expect(inSegment(Math.floor(i / C)), `${x.id} row ${Math.floor(i / C)}`).toBe(true);
          expect(x.values).not.toEqual(b.values);
          for (const s of x.segments) {
            expect(s.start).toBeGreaterThanOrEqual(b.rows.train + K.marginRows);
            expect(s.end + K.marginRows).toBeLessThan(b.rows.total);
          }
          expect(x.labels.subarray(0, b.rows.train).every((l) => l === 0)).toBe(true);
          const last = x.segments[x.segments.length - 1].end;
          expect(Array.from(x.excluded.subarray(last + 1, last + 1 + K.marginRows)).every((e) => e === 1)).toBe(true);
        }
      }
    }
  });

  it('correlation break: a1 untouched, a2 moved but within its own training range', () => {
    for (const b of bases('multivariate')) {
      const x = makeCase(b, 'correlationBreak', 0, K);
      const C = b.channels.length;
      const { min, max } = columnRange(b.values, C, 1, 0, b.rows.train);
      const { start, end } = x.segments[0];
      expect(end - start + 1).toBe(K.segmentRows);
      expect(column(x, 0)).toEqual(column(b, 0));
      const a2 = column(x, 1).slice(start, end + 1);
      expect(a2).not.toEqual(column(b, 1).slice(start, end + 1));
      expect(Math.min(...a2)).toBeGreaterThanOrEqual(min);
      expect(Math.max(...a2)).toBeLessThanOrEqual(max);
    }
  });

  it('command without response keeps the command; response without command keeps the response', () => {
    for (const b of bases('multivariate')) {
      const cr = b.command!;
      const noResp = makeCase(b, 'commandWithoutResponse', 0, K);
      expect(column(noResp, cr.command)).toEqual(column(b, cr.command));
      expect(column(noResp, cr.response)).not.toEqual(column(b, cr.response));
      const noCmd = makeCase(b, 'responseWithoutCommand', 0, K);
      expect(column(noCmd, cr.response)).toEqual(column(b, cr.response));
      for (const s of noCmd.segments) expect(noCmd.values[s.start * b.channels.length + cr.command]).toBe(0);
      expect(noCmd.segments.length).toBe(K.pulseAnomalies);
    }
  });

  it('lists the relation types for the multivariate layout only', () => {
    expect(typesOf('univariate')).toEqual(CHANNEL_TYPES);
    expect(typesOf('multivariate')).toEqual(ALL_TYPES);
    expect(typesOf('fleet')).toEqual(CHANNEL_TYPES);
    expect(() => makeCase(makeBaseSeries(0, 'univariate', 0, K), 'correlationBreak', 0, K)).toThrow(/not a univariate type/);
  });
});
