/** The training rows a model key collects from its windows. */
import { describe, expect, it } from 'vitest';
import { RowCollector } from '../../../src/modelOps/rowCollector.ts';
import type { Window } from '../../../src/types.ts';

const L = 4;

/**
 * The window of `entityId` whose points are at times end-L+1 … end; the value of channel `name`
 * at time t is `value(name, t)`, so every row says where it came from.
 */
function win(entityId: string, end: number, channels: readonly string[] = ['a', 'b'], value = (name: string, t: number) => (name === 'a' ? t : 100 + t)): Window {
  const C = channels.length;
  const timestamps = Float64Array.from({ length: L }, (_, i) => end - L + 1 + i);
  const values = new Float32Array(L * C);
  timestamps.forEach((t, i) => channels.forEach((name, c) => (values[i * C + c] = value(name, t))));
  return { entityId, channels, length: L, startTime: timestamps[0], endTime: end, timestamps, values, hasGap: false, sources: [], releases: [] };
}

/** The series as [t, a, b] rows. */
function rows(r: RowCollector): number[][] {
  const s = r.series();
  const C = s.channels.length;
  return Array.from(s.timestamps, (t, n) => [t, ...Array.from(s.values.subarray(n * C, (n + 1) * C))]);
}

describe('RowCollector', () => {
  it('adds each point of overlapping windows once', () => {
    const r = new RowCollector(100);
    expect(r.add(win('e', 3))).toBe(4); // t 0..3
    expect(r.add(win('e', 4))).toBe(1); // t 1..4: only 4 is new
    expect(r.add(win('e', 4))).toBe(0); // the same window again
    expect(r.add(win('e', 9))).toBe(4); // t 6..9, after a hop of 5
    expect(rows(r).map((x) => x[0])).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9]);
    expect(rows(r)[4]).toEqual([4, 4, 104]);
    expect(r.size).toBe(9);
  });

  it('deduplicates per entity: two entities with the same timestamps both contribute', () => {
    const r = new RowCollector(100);
    expect(r.add(win('e1', 3))).toBe(4);
    expect(r.add(win('e2', 3, ['a', 'b'], (n, t) => (n === 'a' ? -t : -100 - t)))).toBe(4);
    expect(r.add(win('e1', 4))).toBe(1);
    expect(r.add(win('e2', 4, ['a', 'b'], (n, t) => (n === 'a' ? -t : -100 - t)))).toBe(1);
    // Arrival order: e1's rows, then e2's, then the two newest.
    expect(rows(r).map((x) => x[1])).toEqual([0, 1, 2, 3, -0, -1, -2, -3, 4, -4]);
  });

  it('keeps the newest `capacity` rows, oldest first', () => {
    const r = new RowCollector(6);
    for (let end = 3; end <= 20; end++) r.add(win('e', end));
    expect(r.size).toBe(6);
    expect(rows(r)).toEqual([15, 16, 17, 18, 19, 20].map((t) => [t, t, 100 + t]));
    // Wrapping more than once keeps the order.
    for (let end = 21; end <= 27; end++) r.add(win('e', end));
    expect(rows(r).map((x) => x[0])).toEqual([22, 23, 24, 25, 26, 27]);
  });

  it('series() is a copy: later adds do not change it', () => {
    const r = new RowCollector(4);
    r.add(win('e', 3));
    const before = r.series();
    r.add(win('e', 7));
    expect(Array.from(before.timestamps)).toEqual([0, 1, 2, 3]);
    expect(Array.from(r.series().timestamps)).toEqual([4, 5, 6, 7]);
  });

  it('skips rows with a non-finite value in any channel, and does not take them later', () => {
    const r = new RowCollector(100);
    const gap = (n: string, t: number) => (t === 1 && n === 'b' ? NaN : t === 2 ? Infinity : n === 'a' ? t : 100 + t);
    expect(r.add(win('e', 3, ['a', 'b'], gap))).toBe(2);
    expect(rows(r)).toEqual([
      [0, 0, 100],
      [3, 3, 103],
    ]);
    // The same points arriving again with finite values are not taken: the window end moved on.
    expect(r.add(win('e', 4))).toBe(1);
    expect(rows(r).map((x) => x[0])).toEqual([0, 3, 4]);
  });

  it('maps a window whose channels come in another order to the first window\'s order', () => {
    const r = new RowCollector(100);
    r.add(win('e1', 3, ['a', 'b']));
    expect(r.channels).toEqual(['a', 'b']);
    expect(r.add(win('e2', 3, ['b', 'a']))).toBe(4);
    const s = r.series();
    expect(s.channels).toEqual(['a', 'b']);
    // e2's rows read a then b, like e1's, although its window holds b first.
    expect(rows(r).slice(4)).toEqual([0, 1, 2, 3].map((t) => [t, t, 100 + t]));
  });

  it('ignores a window with other channels (-1) and keeps collecting', () => {
    const r = new RowCollector(100);
    r.add(win('e', 3, ['a', 'b']));
    expect(r.add(win('e', 5, ['a', 'c']))).toBe(-1);
    expect(r.add(win('e', 5, ['a']))).toBe(-1);
    expect(r.add(win('e', 5, ['a', 'b', 'c']))).toBe(-1);
    expect(r.size).toBe(4);
    expect(r.channels).toEqual(['a', 'b']);
    expect(r.add(win('e', 5))).toBe(2);
  });

  it('skip() means a window\'s points are never added, by it or by later overlapping windows', () => {
    const r = new RowCollector(100);
    r.add(win('e', 3)); // t 0..3
    r.skip(win('e', 6)); // t 3..6, e.g. judged anomalous
    expect(r.size).toBe(4);
    expect(r.add(win('e', 6))).toBe(0);
    expect(r.add(win('e', 8))).toBe(2); // t 5..8: only 7 and 8
    expect(rows(r).map((x) => x[0])).toEqual([0, 1, 2, 3, 7, 8]);
    // skip is per entity.
    expect(r.add(win('other', 6))).toBe(4);
  });

  it('skip() never moves an entity back in time', () => {
    const r = new RowCollector(100);
    r.add(win('e', 10));
    r.skip(win('e', 5));
    expect(r.add(win('e', 11))).toBe(1);
    expect(rows(r).map((x) => x[0])).toEqual([7, 8, 9, 10, 11]);
  });

  it('clear() drops the rows but keeps the channel order and what each entity already gave', () => {
    const r = new RowCollector(100);
    r.add(win('e', 3, ['b', 'a']));
    r.clear();
    expect(r.size).toBe(0);
    expect(r.series().timestamps).toHaveLength(0);
    expect(r.channels).toEqual(['b', 'a']);
    expect(r.add(win('e', 5))).toBe(2); // t 2..5: 4 and 5 are new
    expect(rows(r)).toEqual([
      [4, 104, 4],
      [5, 105, 5],
    ]);
  });
});
