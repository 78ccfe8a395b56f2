import { describe, expect, it } from 'vitest';
import { NabError, parseNabTimestamp, probationaryLength, windowRows } from '../../../../src/eval/nab/index.ts';

describe('probationaryLength', () => {
  it('is floor(15%) of the rows', () => {
    expect(probationaryLength(4032)).toBe(604); // art_daily_small_noise: 3428 scored rows in NAB's score file
    expect(probationaryLength(1127)).toBe(169);
    expect(probationaryLength(40)).toBe(6);
  });

  it('is capped at 750 rows (15% of 5000)', () => {
    expect(probationaryLength(10320)).toBe(750); // nyc_taxi
    expect(probationaryLength(5000)).toBe(750);
    expect(probationaryLength(5006)).toBe(750);
    expect(probationaryLength(4999)).toBe(749);
  });

  it('takes another share', () => {
    expect(probationaryLength(100, 0.1)).toBe(10);
    expect(probationaryLength(100, 0)).toBe(0);
  });
});

describe('parseNabTimestamp', () => {
  it('reads the data and the label spelling of one instant as the same number', () => {
    const a = parseNabTimestamp('2014-04-10 07:15:00');
    expect(a).toBe(Date.UTC(2014, 3, 10, 7, 15, 0));
    expect(parseNabTimestamp('2014-04-10 07:15:00.000000')).toBe(a);
    expect(parseNabTimestamp('2014-04-10T07:15:00')).toBe(a);
    expect(parseNabTimestamp('2014-04-10 07:15:00.250000')).toBe(a + 250);
  });

  it('is NaN for anything else', () => {
    expect(parseNabTimestamp('yesterday')).toBeNaN();
    expect(parseNabTimestamp('2014-04-10')).toBeNaN();
  });
});

describe('windowRows', () => {
  const ts = Float64Array.from({ length: 10 }, (_, i) => Date.UTC(2015, 0, 1, i));
  const at = (h: number) => `2015-01-01 ${String(h).padStart(2, '0')}:00:00.000000`;

  it('maps each window to the rows of its two timestamps', () => {
    expect(windowRows(ts, [[at(1), at(3)], [at(5), at(9)]], 'f.csv')).toEqual([
      { left: 1, right: 3 },
      { left: 5, right: 9 },
    ]);
  });

  it('rejects a window end that is not a row, as NAB’s labeler does', () => {
    const bad = () => windowRows(ts, [[at(1), '2015-01-01 03:30:00.000000']], 'f.csv');
    expect(bad).toThrow(NabError);
    expect(bad).toThrow(/not a row/);
    try {
      bad();
    } catch (e) {
      expect((e as NabError).code).toBe('NAB_LABEL_MISMATCH');
      expect((e as NabError).coords).toMatchObject({ file: 'f.csv', window: 0 });
    }
  });

  it('rejects overlapping or unordered windows', () => {
    expect(() => windowRows(ts, [[at(5), at(6)], [at(1), at(2)]], 'f.csv')).toThrow(/precedes/);
    expect(() => windowRows(ts, [[at(1), at(5)], [at(4), at(6)]], 'f.csv')).toThrow(/overlaps/);
  });
});
