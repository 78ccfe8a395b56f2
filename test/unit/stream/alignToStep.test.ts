import { from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { alignToStep, type AlignToStepOptions } from '../../../src/stream/alignToStep.ts';
import type { Reading, Row } from '../../../src/types.ts';
import { reading, testScheduler } from './helpers.ts';

function align(input: Reading[], opts: AlignToStepOptions): Row[] {
  let out: Row[] = [];
  from(input).pipe(alignToStep(opts), toArray()).subscribe((rows) => (out = rows));
  return out;
}

/** Rows as plain data, so that NaN and Float64Array compare readably. */
const plain = (rows: Row[]) =>
  rows.map((r) => ({ t: r.timestamp, v: Array.from(r.values), n: r.sources.length, ...(r.gap ? { gap: true } : {}), ...(r.filled ? { filled: true } : {}) }));

describe('alignToStep', () => {
  it('stepMs = 0: one row per reading, channels from the first reading sorted, missing ones carried forward', () => {
    const input = [reading('m', 5, { z: 1, a: 2 }), reading('m', 7, { a: 3, extra: 9 }), reading('m', 7, { z: 4 })];
    const rows = align(input, { stepMs: 0, maxFillSteps: 3, channels: [] });
    expect(rows.map((r) => r.channels)).toEqual([['a', 'z'], ['a', 'z'], ['a', 'z']]);
    expect(plain(rows)).toEqual([
      { t: 5, v: [2, 1], n: 1 },
      { t: 7, v: [3, 1], n: 1 },
      { t: 7, v: [3, 4], n: 1 },
    ]);
    expect(rows.map((r) => r.sources[0])).toEqual(input.map((x) => x.source));
    expect(rows.every((r) => r.entityId === 'm')).toBe(true);
  });

  it('a configured channel never seen is NaN and makes the row a gap until it arrives', () => {
    const rows = align([reading('m', 1, { a: 1 }), reading('m', 2, { b: 2 }), reading('m', 3, { a: 3 })], { stepMs: 0, maxFillSteps: 0, channels: ['a', 'b'] });
    expect(plain(rows)).toEqual([
      { t: 1, v: [1, NaN], n: 1, gap: true },
      { t: 2, v: [1, 2], n: 1 },
      { t: 3, v: [3, 2], n: 1 },
    ]);
  });

  it('merges readings of one step (last value wins, all sources kept) and emits when a later step starts', () => {
    const vals = {
      a: reading('m', 1000, { x: 1, y: 10 }),
      b: reading('m', 1004, { x: 2 }),
      c: reading('m', 1012, { y: 20 }),
    };
    testScheduler().run(({ hot, expectObservable }) => {
      const rows = hot('-a-b--c--|', vals).pipe(alignToStep({ stepMs: 10, maxFillSteps: 3, channels: [] }));
      expectObservable(rows).toBe('------p--(q|)', {
        p: { entityId: 'm', timestamp: 1000, channels: ['x', 'y'], values: Float64Array.from([2, 10]), sources: [vals.a.source, vals.b.source] },
        q: { entityId: 'm', timestamp: 1010, channels: ['x', 'y'], values: Float64Array.from([2, 20]), sources: [vals.c.source] },
      });
    });
  });

  it('forward-fills a hole of up to maxFillSteps steps', () => {
    const rows = align([reading('m', 0, { x: 1 }), reading('m', 35, { x: 5 })], { stepMs: 10, maxFillSteps: 2, channels: [] });
    expect(plain(rows)).toEqual([
      { t: 0, v: [1], n: 1 },
      { t: 10, v: [1], n: 0, filled: true },
      { t: 20, v: [1], n: 0, filled: true },
      { t: 30, v: [5], n: 1 },
    ]);
  });

  it('marks a longer hole with ONE gap row at the first missing step, whatever its length', () => {
    const rows = align([reading('m', 0, { x: 1, y: 7 }), reading('m', 1_000_000, { x: 5 })], { stepMs: 10, maxFillSteps: 2, channels: [] });
    expect(plain(rows)).toEqual([
      { t: 0, v: [1, 7], n: 1 },
      { t: 10, v: [NaN, NaN], n: 0, gap: true },
      // y is carried over the gap from the last row with data
      { t: 1_000_000, v: [5, 7], n: 1 },
    ]);
  });

  it('property: every source appears in exactly one row and rows are on the step grid, one step apart except after a gap row', () => {
    const input: Reading[] = [];
    let t = 3;
    for (let i = 0; i < 300; i++) {
      t += [0, 1, 4, 9, 25, 60][i % 6];
      input.push(reading('m', t, i % 3 === 0 ? { a: i } : { a: i, b: -i }));
    }
    const rows = align(input, { stepMs: 5, maxFillSteps: 2, channels: [] });
    expect(rows.flatMap((r) => r.sources)).toEqual(input.map((x) => x.source));
    for (let i = 0; i < rows.length; i++) {
      expect(rows[i].timestamp % 5).toBe(0);
      if (i > 0) expect(rows[i].timestamp).toBeGreaterThan(rows[i - 1].timestamp);
      // Only a gap row may stand for more than one step.
      if (i > 0 && !rows[i - 1].gap) expect(rows[i].timestamp - rows[i - 1].timestamp).toBe(5);
    }
  });
});
