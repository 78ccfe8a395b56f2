import { describe, expect, it } from 'vitest';
import { ConfigError, DiffwatchError } from '../../../src/errors.ts';
import { CODES_PER_DECADE, codeScore, scoreCode, TailRank, TAIL_RANK_DEFAULTS } from '../../../src/detect/tailRank.ts';
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

describe('TailRank as kept: 16-bit codes and the exact maxima', () => {
  it('codes keep the order, 4,096 per decade, and tie only within 0.06 %', () => {
    expect(scoreCode(0)).toBe(0);
    expect(scoreCode(-3)).toBe(0);
    expect(scoreCode(1e-9)).toBe(0);
    expect(scoreCode(10) - scoreCode(1)).toBe(CODES_PER_DECADE);
    expect(scoreCode(1e12)).toBe(0xffff);
    const u = mulberry32(4);
    const xs = Array.from({ length: 2_000 }, () => 10 ** (8 * u() - 4)).sort((a, b) => a - b);
    for (let i = 1; i < xs.length; i++) {
      expect(scoreCode(xs[i])).toBeGreaterThanOrEqual(scoreCode(xs[i - 1]));
      if (xs[i] / xs[i - 1] > 1.0006) expect(scoreCode(xs[i])).toBeGreaterThan(scoreCode(xs[i - 1]));
    }
    expect(Math.abs(codeScore(scoreCode(3.7)) / 3.7 - 1)).toBeLessThan(3e-4);
  });

  it('decides records exactly, also after a long decreasing run (more candidates than it keeps exactly)', () => {
    const r = new TailRank(cfg({ minHistory: 1, capacity: 300, excessWeight: 3 }));
    const xs = Array.from({ length: 200 }, (_, i) => 1_000 - i); // 200 candidates for the maximum
    for (const x of xs) r.update(x);
    // 1,000 is the maximum: just above it is a record, at it is not.
    expect(r.surprise(1_000.5)).toBeCloseTo(Math.log10(201) + 3 * Math.log10(1_000.5 / 1_000), 12);
    expect(r.surprise(1_000)).toBeCloseTo(-Math.log10(2 / 201), 12);
    // Forget the largest 150: the maximum is then 850, one of the scores beyond the kept candidates.
    for (let i = 0; i < 250; i++) r.update(1);
    expect(r.size).toBe(300);
    expect(r.surprise(851)).toBeCloseTo(Math.log10(301) + 3 * Math.log10(851 / 850), 3);
    expect(r.surprise(849)).toBeCloseTo(-Math.log10(3 / 301), 12);
  });

  it('restores exactly from its snapshot, and converts the float64 format', () => {
    const u = mulberry32(9);
    const xs = Array.from({ length: 900 }, () => -Math.log(1 - u()));
    const c = cfg({ minHistory: 20, capacity: 500 });
    const a = new TailRank(c);
    xs.slice(0, 600).forEach((x) => a.update(x));
    const b = TailRank.restore(c, JSON.parse(JSON.stringify(a.snapshot())));
    // The format written before: the kept scores, float64, oldest first.
    const old = TailRank.restore(c, { scores: Buffer.from(Float64Array.from(xs.slice(100, 600)).buffer).toString('base64') });
    for (const x of xs.slice(600)) {
      const s = a.update(x);
      expect(b.update(x)).toBe(s);
      expect(old.update(x)).toBe(s);
    }
  });
});
