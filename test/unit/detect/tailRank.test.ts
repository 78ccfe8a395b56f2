import { describe, expect, it } from 'vitest';
import { ConfigError, DiffwatchError } from '../../../src/errors.ts';
import { TailRank, TAIL_RANK_DEFAULTS } from '../../../src/detect/tailRank.ts';
import { mulberry32 } from '../../../src/random.ts';

const cfg = (o: Partial<typeof TAIL_RANK_DEFAULTS> = {}) => ({ ...TAIL_RANK_DEFAULTS, ...o });

describe('TailRank', () => {
  it('gives 0 until minHistory scores were seen, then -log10 of the empirical tail share', () => {
    const r = new TailRank(cfg({ minHistory: 4, excessWeight: 0 }));
    for (const x of [1, 2, 3, 4]) expect(r.update(x)).toBe(0);
    // 2 of the 4 past scores are >= 3: p = (2 + 1) / (4 + 1).
    expect(r.surprise(3)).toBeCloseTo(-Math.log10(3 / 5), 12);
    // Below everything: p = (4 + 1) / 5 = 1.
    expect(r.surprise(0)).toBeCloseTo(0, 12);
    // A record: p = 1 / 5.
    expect(r.surprise(100)).toBeCloseTo(Math.log10(5), 12);
  });

  it('orders records by how far they break the previous maximum', () => {
    const r = new TailRank(cfg({ minHistory: 3, excessWeight: 3 }));
    for (const x of [1, 2, 4]) r.update(x);
    expect(r.surprise(8)).toBeCloseTo(Math.log10(4) + 3 * Math.log10(2), 12);
    expect(r.surprise(40)).toBeGreaterThan(r.surprise(8));
    // Equal to the maximum is not a record: the rank alone.
    expect(r.surprise(4)).toBeCloseTo(Math.log10(4 / 2), 12);
  });

  it('is scale-free: multiplying every score by a constant changes no surprise', () => {
    const u = mulberry32(7);
    const xs = Array.from({ length: 500 }, () => -Math.log(1 - u()));
    const a = new TailRank(cfg());
    const b = new TailRank(cfg());
    const sa = xs.map((x) => a.update(x));
    const sb = xs.map((x) => b.update(1000 * x));
    sa.forEach((s, i) => expect(sb[i]).toBeCloseTo(s, 9));
  });

  it('keeps the newest `capacity` scores, forgetting in arrival order', () => {
    const r = new TailRank(cfg({ minHistory: 1, capacity: 3, excessWeight: 0 }));
    for (const x of [100, 1, 2, 3]) r.update(x); // 100 is forgotten
    expect(r.size).toBe(3);
    expect(r.surprise(50)).toBeCloseTo(Math.log10(4), 12); // a record again among 1, 2, 3
    // Same as a fresh rank over the kept scores only.
    const fresh = new TailRank(cfg({ minHistory: 1, capacity: 3, excessWeight: 0 }));
    for (const x of [1, 2, 3]) fresh.update(x);
    for (const x of [0.5, 1.5, 2, 2.5, 9]) expect(r.surprise(x)).toBe(fresh.surprise(x));
  });

  it('matches a brute-force count on random scores with ties', () => {
    const u = mulberry32(3);
    const r = new TailRank(cfg({ minHistory: 1, capacity: 200, excessWeight: 0 }));
    const past: number[] = [];
    for (let i = 0; i < 600; i++) {
      const x = Math.floor(u() * 50);
      const kept = past.slice(-200);
      const expected = kept.length === 0 ? 0 : -Math.log10((kept.filter((y) => y >= x).length + 1) / (kept.length + 1));
      expect(r.update(x)).toBeCloseTo(expected, 12);
      past.push(x);
    }
  });

  it('rejects bad settings with the key, and non-finite scores with a typed error', () => {
    expect(() => new TailRank(cfg({ minHistory: 0 }))).toThrow(ConfigError);
    expect(() => new TailRank(cfg({ capacity: 10, minHistory: 20 }))).toThrow(/capacity/);
    expect(() => new TailRank(cfg({ excessWeight: -1 }))).toThrow(/excessWeight/);
    const err = (() => { try { new TailRank(cfg()).update(Number.NaN); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(DiffwatchError);
    expect((err as DiffwatchError).code).toBe('SCORE_NOT_FINITE');
  });
});
