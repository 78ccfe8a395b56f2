import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTimestamp, readCsvSeries } from '../../../src/ingest/csvSeries.ts';

const where = { file: 'x.csv', line: 2 };

describe('csvSeries', () => {
  it('parses NAB date-times as UTC, ISO with zones, and epoch ms', () => {
    expect(parseTimestamp('2013-12-02 21:15:00', where)).toBe(Date.UTC(2013, 11, 2, 21, 15));
    expect(parseTimestamp('2013-12-02T21:15:00+01:00', where)).toBe(Date.UTC(2013, 11, 2, 20, 15));
    expect(parseTimestamp('1386018900000', where)).toBe(1386018900000);
    expect(() => parseTimestamp('yesterday', where)).toThrow(/x.csv:2: cannot parse timestamp/);
  });

  it('reads selected columns row-major and names a bad cell', () => {
    const dir = mkdtempSync(join(tmpdir(), 'csv-'));
    const f = join(dir, 's.csv');
    writeFileSync(f, 'timestamp,a,b\n2020-01-01 00:00:00,1,2\n2020-01-01 00:05:00,3,4\n');
    const s = readCsvSeries(f);
    expect(s.channels).toEqual(['a', 'b']);
    expect(Array.from(s.values)).toEqual([1, 2, 3, 4]);
    expect(s.timestamps[1] - s.timestamps[0]).toBe(300_000);
    expect(Array.from(readCsvSeries(f, { columns: ['b'] }).values)).toEqual([2, 4]);
    expect(() => readCsvSeries(f, { columns: ['c'] })).toThrow(/no column "c"/);
    writeFileSync(f, 'timestamp,a\n2020-01-01 00:00:00,oops\n');
    expect(() => readCsvSeries(f)).toThrow(/s.csv:2: column a is not a finite number/);
  });
});
