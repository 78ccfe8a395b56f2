import { from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { orderByEventTime } from '../../../src/stream/orderByEventTime.ts';
import { prng, testScheduler } from './helpers.ts';

interface Rec {
  id: string;
  timestamp: number;
}
const r = (id: string, timestamp: number): Rec => ({ id, timestamp });

function runSync(input: Rec[], allowedLatenessMs: number): { out: Rec[]; late: Rec[] } {
  const late: Rec[] = [];
  let out: Rec[] = [];
  from(input)
    .pipe(orderByEventTime<Rec>({ allowedLatenessMs, onLate: (x) => late.push(x) }), toArray())
    .subscribe((xs) => (out = xs));
  return { out, late };
}

describe('orderByEventTime', () => {
  it('passes in-order records straight through with allowedLatenessMs = 0', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const vals = { a: r('a', 10), b: r('b', 20), c: r('c', 20), d: r('d', 35) };
      const source = hot('-a-bc--d-|', vals);
      expectObservable(source.pipe(orderByEventTime<Rec>({ allowedLatenessMs: 0, onLate: () => {} }))).toBe('-a-bc--d-|', vals);
    });
  });

  it('holds records until the watermark passes them, routes late ones to onLate, flushes on completion', () => {
    const vals = { a: r('a', 100), b: r('b', 95), c: r('c', 105), d: r('d', 111), e: r('e', 90), f: r('f', 101) };
    const late: Rec[] = [];
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c-d-e-f-|', vals);
      // watermark = maxSeen - 10: after c (105) it is 95 → b; after d (111) it is 101 → a (100).
      // e (90) is older than the last emitted (100): late. f (101) is at the watermark: out at once.
      expectObservable(source.pipe(orderByEventTime<Rec>({ allowedLatenessMs: 10, onLate: (x) => late.push(x) }))).toBe(
        '-----b-a---f-(cd|)',
        vals,
      );
    });
    expect(late).toEqual([vals.e]);
  });

  it('reports a record older than the last emitted one as late and never emits it', () => {
    const { out, late } = runSync([r('a', 100), r('b', 95), r('c', 100), r('d', 120)], 0);
    expect(out.map((x) => x.id)).toEqual(['a', 'c', 'd']);
    expect(late.map((x) => x.id)).toEqual(['b']);
  });

  it('keeps arrival order among equal timestamps', () => {
    const { out, late } = runSync([r('a', 50), r('b', 40), r('c', 40), r('d', 50), r('e', 40), r('f', 200)], 100);
    expect(out.map((x) => x.id)).toEqual(['b', 'c', 'e', 'a', 'd', 'f']);
    expect(late).toEqual([]);
  });

  it('property: output is sorted, nothing is lost, and disorder within the bound is never late', () => {
    const rand = prng(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rand() * 60);
      const maxDisorder = Math.floor(rand() * 30);
      // Each record is displaced backwards by at most maxDisorder ms from a rising clock.
      const input = Array.from({ length: n }, (_, i) => r(`r${i}`, i * 10 - Math.floor(rand() * (maxDisorder + 1))));
      const lateness = Math.floor(rand() * 40);
      const { out, late } = runSync(input, lateness);

      for (let i = 1; i < out.length; i++) expect(out[i].timestamp).toBeGreaterThanOrEqual(out[i - 1].timestamp);
      expect([...out, ...late].map((x) => x.id).sort()).toEqual(input.map((x) => x.id).sort());
      // A record that arrives at most `lateness` below the newest seen is never late.
      if (maxDisorder + 10 <= lateness) expect(late).toEqual([]);
      // A late record was below the watermark when it arrived.
      for (const x of late) {
        const arrivedAt = input.indexOf(x);
        const maxBefore = Math.max(...input.slice(0, arrivedAt).map((y) => y.timestamp));
        expect(x.timestamp).toBeLessThan(maxBefore - lateness);
      }
    }
  });
});
