import { from, map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { slidingWindows } from '../../../src/stream/slidingWindows.ts';
import type { Row, SourceCoord, Window } from '../../../src/types.ts';
import { key, prng, row, src, testScheduler } from './helpers.ts';

function cut(rows: Row[], length: number, hop: number): { windows: Window[]; discarded: SourceCoord[][] } {
  const windows: Window[] = [];
  const discarded: SourceCoord[][] = [];
  from(rows)
    .pipe(slidingWindows({ length, hop, onDiscard: (s) => discarded.push(s) }))
    .subscribe((w) => windows.push(w));
  return { windows, discarded };
}

const rowsAt = (n: number) => Array.from({ length: n }, (_, i) => row('m', i * 10, [i, -i]));

describe('slidingWindows', () => {
  it('emits the first window when `length` rows are buffered, then one per hop', () => {
    const rs = rowsAt(5);
    testScheduler().run(({ hot, expectObservable }) => {
      const vals = { a: rs[0], b: rs[1], c: rs[2], d: rs[3], e: rs[4] };
      const starts = hot('-a-b-c-d-e-|', vals).pipe(
        slidingWindows({ length: 3, hop: 1, onDiscard: () => {} }),
        map((w) => w.startTime),
      );
      expectObservable(starts).toBe('-----x-y-z-|', { x: 0, y: 10, z: 20 });
    });
  });

  it('lays values out row-major [L, C] and carries timestamps, gap flag and sources', () => {
    const rs = [row('m', 0, [1, 2]), row('m', 10, [NaN, NaN], { gap: true, sources: [] }), row('m', 20, [5, 6]), row('m', 30, [7, 8])];
    const { windows } = cut(rs, 3, 1);
    expect(windows).toHaveLength(2);
    const [w0, w1] = windows;
    expect(Array.from(w0.values)).toEqual([1, 2, NaN, NaN, 5, 6]);
    expect(w0.values).toBeInstanceOf(Float32Array);
    expect(Array.from(w0.timestamps)).toEqual([0, 10, 20]);
    expect([w0.length, w0.startTime, w0.endTime, w0.entityId, w0.channels]).toEqual([3, 0, 20, 'm', ['c0', 'c1']]);
    expect(w0.hasGap).toBe(true);
    expect(w0.sources).toEqual([...rs[0].sources, ...rs[2].sources]);
    expect(w0.releases).toEqual(rs[0].sources);
    expect(w1.hasGap).toBe(true);
    expect(Array.from(w1.values)).toEqual([NaN, NaN, 5, 6, 7, 8]);
  });

  it('releases the oldest hop rows with each window and discards the rest on completion', () => {
    const rs = rowsAt(7);
    const { windows, discarded } = cut(rs, 4, 2);
    expect(windows.map((w) => w.startTime)).toEqual([0, 20]);
    expect(windows[0].releases).toEqual([...rs[0].sources, ...rs[1].sources]);
    expect(windows[1].releases).toEqual([...rs[2].sources, ...rs[3].sources]);
    expect(discarded).toEqual([[...rs[4].sources, ...rs[5].sources, ...rs[6].sources]]);
  });

  it('hop > length: skipped rows are released with the next window', () => {
    const rs = rowsAt(8);
    const { windows, discarded } = cut(rs, 2, 3);
    expect(windows.map((w) => Array.from(w.timestamps))).toEqual([[0, 10], [30, 40], [60, 70]]);
    expect(windows[1].releases).toEqual([...rs[2].sources, ...rs[3].sources, ...rs[4].sources]);
    expect(windows[2].releases).toEqual([...rs[5].sources, ...rs[6].sources, ...rs[7].sources]);
    expect(discarded).toEqual([]);
  });

  it('does not call onDiscard when nothing is left', () => {
    const { windows, discarded } = cut(rowsAt(3), 3, 3);
    expect(windows).toHaveLength(1);
    expect(discarded).toEqual([]);
  });

  it('rejects a length or hop below 1', () => {
    expect(() => slidingWindows({ length: 0, hop: 1, onDiscard: () => {} })).toThrow(RangeError);
    expect(() => slidingWindows({ length: 4, hop: 0, onDiscard: () => {} })).toThrow(RangeError);
  });

  it('property: every source is handed back exactly once, in one release list or one discard', () => {
    const rand = prng(11);
    for (let trial = 0; trial < 300; trial++) {
      const length = 1 + Math.floor(rand() * 8);
      const hop = 1 + Math.floor(rand() * 10);
      const n = Math.floor(rand() * 40);
      const rs = Array.from({ length: n }, (_, i) => row('m', i, [i], { sources: Array.from({ length: Math.floor(rand() * 3) }, () => src()) }));
      const { windows, discarded } = cut(rs, length, hop);

      const handedBack = [...windows.flatMap((w) => w.releases), ...discarded.flat()].map(key);
      const all = rs.flatMap((r) => r.sources).map(key);
      expect(new Set(handedBack).size).toBe(handedBack.length);
      expect([...handedBack].sort()).toEqual([...all].sort());
      expect(windows).toHaveLength(n < length ? 0 : 1 + Math.floor((n - length) / hop));
      // A window never releases a source of a row that a later window still contains.
      for (let i = 0; i + 1 < windows.length; i++) {
        const later = new Set(windows.slice(i + 1).flatMap((w) => w.sources).map(key));
        expect(windows[i].releases.map(key).filter((k) => later.has(k))).toEqual([]);
      }
    }
  });
});
