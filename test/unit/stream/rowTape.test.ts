import { describe, expect, it } from 'vitest';
import { RowTape } from '../../../src/stream/rowTape.ts';
import type { Row } from '../../../src/types.ts';
import { prng, row, src } from './helpers.ts';

const L = 5;

/** Rows 0..n-1 of two channels, value (i, -i) at timestamp 10·i; every 7th a gap, every 4th with two sources and every 9th with none. */
function rows(n: number): Row[] {
  return Array.from({ length: n }, (_, i) =>
    row('m', 10 * i, [i, -i], { gap: i % 7 === 3, sources: i % 9 === 8 ? [] : i % 4 === 0 ? [src(), src()] : [src()] }),
  );
}

/** What a copy of rows `[from, to)` would hold. */
function expected(rs: Row[], from: number, to: number) {
  const part = rs.slice(from, to);
  return {
    values: part.flatMap((r) => Array.from(r.values)),
    timestamps: part.map((r) => r.timestamp),
    hasGap: part.some((r) => r.gap === true),
    sources: part.flatMap((r) => r.sources),
  };
}

describe('RowTape', () => {
  it('gives the newest rows as views equal to a copy, across many chunk rolls', () => {
    const rs = rows(20 * L);
    const tape = new RowTape(2, L);
    for (let i = 0; i < rs.length; i++) {
      tape.push(rs[i]);
      if (tape.buffered < L) continue;
      const s = tape.newest(L);
      expect({ values: Array.from(s.values), timestamps: Array.from(s.timestamps), hasGap: s.hasGap, sources: s.sources }).toEqual(expected(rs, i - L + 1, i + 1));
      tape.dropOldest(1, []);
    }
  });

  it('never rewrites a row a window views: slices cut early keep their values after the tape rolls on', () => {
    const rs = rows(30 * L);
    const tape = new RowTape(2, L);
    const cut: { at: number; values: Float32Array; timestamps: Float64Array }[] = [];
    for (let i = 0; i < rs.length; i++) {
      tape.push(rs[i]);
      if (tape.buffered < L) continue;
      const { values, timestamps } = tape.newest(L);
      cut.push({ at: i, values, timestamps });
      tape.dropOldest(1, []);
    }
    expect(cut).toHaveLength(rs.length - L + 1);
    for (const c of cut) {
      const e = expected(rs, c.at - L + 1, c.at + 1);
      expect([Array.from(c.values), Array.from(c.timestamps)]).toEqual([e.values, e.timestamps]);
    }
  });

  it('hands each buffered row\'s sources out once, oldest first, by dropOldest', () => {
    const rng = prng(3);
    const rs = rows(12 * L);
    const tape = new RowTape(2, L);
    const out: ReturnType<typeof src>[] = [];
    for (const r of rs) {
      tape.push(r);
      if (tape.buffered >= L) tape.dropOldest(1 + Math.floor(rng() * L), out);
    }
    tape.dropOldest(tape.buffered, out);
    expect(tape.buffered).toBe(0);
    expect(out).toEqual(rs.flatMap((r) => r.sources));
  });

  it('refuses a row whose channel count differs from the tape\'s', () => {
    const tape = new RowTape(2, L);
    expect(() => tape.push(row('m', 0, [1, 2, 3]))).toThrow(RangeError);
  });
});
