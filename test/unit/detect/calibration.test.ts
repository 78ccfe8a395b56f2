import { describe, expect, it } from 'vitest';
import { ConfigError, ModelError } from '../../../src/errors.ts';
import {
  boundedSurprise,
  Calibration,
  CALIBRATION_DEFAULTS,
  likelihoodOf,
  logGaussianTail,
  logLikelihoodOf,
  surpriseOf,
  type CalibrationConfig,
  type ValidationQuantiles,
} from '../../../src/detect/calibration.ts';
import { mulberry32 } from '../../../src/random.ts';

/** |N(0, 1)| from a seeded mulberry32: a stand-in for robust-z window scores. */
function halfNormal(seed: number): () => number {
  const u = mulberry32(seed);
  return () => Math.abs(Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()));
}

const CFG: CalibrationConfig = { ...CALIBRATION_DEFAULTS };
/** Quantiles of |N(0, 1)|, as a checkpoint would store them. */
const HALF_NORMAL: ValidationQuantiles = { p50: 0.6745, p90: 1.6449, p95: 1.96, p99: 2.5758, p999: 3.2905, max: 4.4 };

const share = (xs: number[], pred: (x: number) => boolean) => xs.filter(pred).length / xs.length;

describe('Gaussian tail and the reported scales', () => {
  it('matches known values of Q(z) to 1e-6 relative, deep into the tail', () => {
    const known: [number, number][] = [[-1, 0.8413447461], [0, 0.5], [1, 0.1586552539], [3, 1.349898032e-3], [6, 9.865876450e-10], [10, 7.619853024e-24], [30, 4.906713927e-198]];
    for (const [z, q] of known) expect(Math.abs(Math.exp(logGaussianTail(z)) / q - 1)).toBeLessThan(1e-6);
    expect(Number.isFinite(logGaussianTail(100))).toBe(true);
  });

  it('keeps the order of top scores where likelihood and NAB logLikelihood saturate', () => {
    const zs = [9, 12, 20, 40];
    expect(zs.map((z) => likelihoodOf(z))).toEqual([1, 1, 1, 1]);
    expect(zs.map((z) => logLikelihoodOf(likelihoodOf(z)))).toEqual([1, 1, 1, 1]);
    const s = zs.map(surpriseOf);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThan(s[i - 1]);
    const b = s.map((v) => boundedSurprise(v));
    for (let i = 1; i < b.length; i++) expect(b[i]).toBeGreaterThan(b[i - 1]);
    expect(b[3]).toBeLessThan(1);
  });

  it('computes NAB logLikelihood as NAB does', () => {
    expect(logLikelihoodOf(0.5)).toBeCloseTo(Math.log(0.5000000001) / Math.log(1 - 0.9999999999), 12);
    expect(logLikelihoodOf(likelihoodOf(3))).toBeCloseTo(0.28697, 4);
    expect(surpriseOf(0)).toBeCloseTo(Math.log10(2), 6);
  });
});

describe('Calibration', () => {
  it('gives stationary noise a uniform-like likelihood: P(L > 1 - p) ≈ p', () => {
    const cal = new Calibration(CFG);
    const draw = halfNormal(1);
    const L: number[] = [];
    for (let i = 0; i < 40_000; i++) {
      const l = likelihoodOf(cal.update(draw()));
      if (i >= 4000) L.push(l);
    }
    expect(share(L, (l) => l > 0.9)).toBeGreaterThan(0.07);
    expect(share(L, (l) => l > 0.9)).toBeLessThan(0.13);
    expect(share(L, (l) => l > 0.99)).toBeGreaterThan(0.005);
    expect(share(L, (l) => l > 0.99)).toBeLessThan(0.02);
    expect(share(L, (l) => l > 0.999)).toBeLessThan(0.003);
  });

  it('flags a sustained jump within the short window, then absorbs it (no endless alarm)', () => {
    const cal = new Calibration(CFG);
    const draw = halfNormal(2);
    for (let i = 0; i < 10_000; i++) cal.update(draw());
    const after = Array.from({ length: 12_000 }, () => likelihoodOf(cal.update(draw() + 4)));
    expect(after.slice(3, 100).every((l) => l > 0.999)).toBe(true);
    expect(share(after.slice(2000, 4000), (l) => l > 0.99)).toBeLessThan(0.02);
    expect(share(after.slice(6000), (l) => l > 0.99)).toBeLessThan(0.03);
  });

  it('starts from validation quantiles without history', () => {
    const withPrior = new Calibration(CFG, HALF_NORMAL);
    const without = new Calibration(CFG);
    expect(withPrior.ready).toBe(true);
    expect(without.ready).toBe(false);
    const draw = halfNormal(3);
    const normal = Array.from({ length: 200 }, () => draw());
    const Lp = normal.map((x) => likelihoodOf(withPrior.update(x)));
    const Ln = normal.map((x) => likelihoodOf(without.update(x)));
    expect(share(Lp, (l) => l > 0.99)).toBeLessThan(0.03);
    for (const l of Ln.slice(0, CFG.minHistory)) expect(l).toBeCloseTo(0.5, 6); // nothing to compare with yet
    const jump = Array.from({ length: 10 }, () => likelihoodOf(withPrior.update(draw() + 5)));
    expect(jump[9]).toBeGreaterThan(0.999);
  });

  it('is scale-free with scale "auto": scores in other units give the same z', () => {
    const a = new Calibration(CFG);
    const b = new Calibration(CFG);
    const draw = halfNormal(4);
    for (let i = 0; i < 3000; i++) {
      const x = draw() + (i > 2000 ? 2 : 0);
      expect(b.update(x * 1e-3)).toBeCloseTo(a.update(x), 9);
    }
  });

  it('round-trips a JSON snapshot exactly, also while the auto scale is pending', () => {
    for (const cut of [50, 3000]) {
      const a = new Calibration(CFG);
      const draw = halfNormal(5);
      for (let i = 0; i < cut; i++) a.update(draw());
      const b = Calibration.restore(JSON.parse(JSON.stringify(a.snapshot())));
      for (let i = 0; i < 3000; i++) {
        const x = draw() * (i % 500 < 20 ? 5 : 1);
        expect(b.update(x)).toBe(a.update(x));
      }
    }
  });

  it('rejects bad quantiles with the field, and bad config with the key', () => {
    expect(() => new Calibration(CFG, { ...HALF_NORMAL, p99: 1 })).toThrow(ModelError);
    try {
      new Calibration(CFG, { ...HALF_NORMAL, p99: 1 });
    } catch (e) {
      expect((e as ModelError).coords.field).toBe('validationQuantiles.p99');
    }
    expect(() => new Calibration({ ...CFG, shortWindow: 0 })).toThrow(ConfigError);
    expect(() => new Calibration({ ...CFG, minStd: 0 })).toThrow(/detect\.calibration\.minStd/);
  });
});
