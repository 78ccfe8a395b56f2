import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import { Dspot, Spot, type SpotConfig } from '../../../src/detect/spot.ts';
import { mulberry32 as uniform } from '../../../src/random.ts';


function gaussian(seed: number): () => number {
  const u = uniform(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

const Q = 1e-3;
const CFG: SpotConfig = { q: Q, nInit: 5000, initLevel: 0.98, maxPeaks: 500, refitEvery: 5, censorAlarms: true };

/** Calibrates on nInit draws, then counts alarms over `fresh` more. */
function alarmsOn(spot: Spot | Dspot, draw: () => number, fresh: number): number {
  while (!spot.ready) spot.step(draw());
  let alarms = 0;
  for (let i = 0; i < fresh; i++) if (spot.step(draw()) === 'alarm') alarms++;
  return alarms;
}

describe('Spot on known distributions (q = 1e-3, 10^5 fresh scores)', () => {
  const cases: [string, (seed: number) => () => number, number][] = [
    ['exponential', (s) => { const u = uniform(s); return () => -Math.log(1 - u()); }, -Math.log(Q)],
    ['Pareto(α = 3)', (s) => { const u = uniform(s); return () => Math.pow(1 - u(), -1 / 3); }, Math.pow(Q, -1 / 3)],
    ['Gaussian', gaussian, 3.0902],
  ];
  it.each(cases)('%s: alarm rate within 2x of q, threshold near the true quantile', (_name, make, trueQuantile) => {
    const spot = new Spot(CFG);
    const alarms = alarmsOn(spot, make(1), 100_000);
    expect(alarms).toBeGreaterThan(50);
    expect(alarms).toBeLessThan(200);
    expect(Math.abs(spot.threshold / trueQuantile - 1)).toBeLessThan(0.1);
    expect(spot.initialThreshold).toBeLessThan(spot.threshold);
  });

  it('drops alarms as the paper does when not censoring, and then alarms too often', () => {
    const censored = alarmsOn(new Spot(CFG), gaussian(2), 100_000);
    const paper = alarmsOn(new Spot({ ...CFG, censorAlarms: false }), gaussian(2), 100_000);
    expect(paper).toBeGreaterThan(2 * censored);
  });

  it('lets a burst of anomalies raise the threshold only a little (bounded censoring)', () => {
    const spot = new Spot({ ...CFG, nInit: 2000 });
    const draw = gaussian(3);
    alarmsOn(spot, draw, 10_000);
    const before = spot.threshold;
    for (let i = 0; i < 300; i++) expect(spot.step(draw() + 10)).toBe('alarm');
    // 300 censored excesses among ~540 would put z_q far out; the budget admits about 15.
    expect(spot.threshold).toBeLessThan(before * 1.35);
    const after = alarmsOn(spot, draw, 20_000); // q = 1e-3: 20 expected
    expect(after).toBeGreaterThan(2);
    expect(after).toBeLessThan(40);
  });
});

describe('Spot calibration and state', () => {
  it('calibrates on the first nInit scores, then sets t at the initLevel quantile', () => {
    const spot = new Spot({ ...CFG, nInit: 100 });
    for (let i = 1; i <= 99; i++) expect(spot.step(i)).toBe('init');
    expect(spot.ready).toBe(false);
    expect(Number.isNaN(spot.threshold)).toBe(true);
    expect(spot.step(100)).toBe('init');
    expect(spot.initialThreshold).toBeCloseTo(98.02, 9); // linear interpolation at 0.98 over 1..100
    expect(spot.step(50)).toBe('normal');
    expect(spot.step(1e6)).toBe('alarm');
  });

  it('rejects a risk at or above the initial exceedance rate, naming the key', () => {
    expect(() => new Spot({ ...CFG, q: 0.05 })).toThrow(ConfigError);
    expect(() => new Spot({ ...CFG, q: 0.05 })).toThrow(/detect\.q/);
    expect(() => new Spot({ ...CFG, nInit: 20 })).toThrow(/detect\.nInit/);
  });

  it.each([
    ['Spot', () => new Spot({ ...CFG, nInit: 1000 })],
    ['Dspot', () => new Dspot({ ...CFG, nInit: 1000, depth: 30 })],
  ] as const)('%s: a JSON snapshot restores a detector that decides identically', (_name, make) => {
    for (const cut of [500, 5000]) { // mid-calibration and running
      const a = make();
      const draw = uniform(4);
      for (let i = 0; i < cut; i++) a.step(-Math.log(1 - draw()));
      const b = a instanceof Spot ? Spot.restore(JSON.parse(JSON.stringify(a.snapshot()))) : Dspot.restore(JSON.parse(JSON.stringify(a.snapshot())));
      for (let i = 0; i < 5000; i++) {
        const x = -Math.log(1 - draw()) + (i % 1000 === 999 ? 20 : 0);
        expect(b.step(x)).toBe(a.step(x));
        expect(b.threshold).toBe(a.threshold);
      }
    }
  });
});

describe('Dspot under drift', () => {
  const cfg = { ...CFG, nInit: 2000, depth: 50 };

  /** Alarm rates of SPOT and DSPOT over 20,000 scores, from 1,000 scores after the drift began. */
  function ratesAfter(level: (i: number) => number, seed: number): { spot: number; dspot: number } {
    const spot = new Spot(cfg);
    const dspot = new Dspot(cfg);
    const draw = gaussian(seed);
    for (let i = 0; i < 5000; i++) {
      const x = draw();
      spot.step(x);
      dspot.step(x);
    }
    let s = 0;
    let d = 0;
    for (let i = 0; i < 21_000; i++) {
      const x = draw() + level(i);
      const a = spot.step(x) === 'alarm';
      const b = dspot.step(x) === 'alarm';
      if (i >= 1000 && a) s++;
      if (i >= 1000 && b) d++;
    }
    return { spot: s / 20_000, dspot: d / 20_000 };
  }

  it.each([1, 2])('follows a level shift of 2σ that keeps SPOT alarming (seed %i)', (seed) => {
    const r = ratesAfter(() => 2, seed);
    expect(r.spot).toBeGreaterThan(5 * Q);
    expect(r.dspot).toBeLessThan(2 * Q);
    expect(r.dspot).toBeGreaterThan(Q / 3);
  });

  it('follows a linear drift (4σ over 20,000 scores)', () => {
    const r = ratesAfter((i) => i * 2e-4, 1);
    expect(r.spot).toBeGreaterThan(10 * Q);
    expect(r.dspot).toBeLessThan(2 * Q);
  });

  it('reports thresholds in score units: z_q + M moves with the level', () => {
    const dspot = new Dspot(cfg);
    const draw = gaussian(5);
    for (let i = 0; i < 10_000; i++) dspot.step(draw());
    const before = dspot.threshold;
    for (let i = 0; i < 10_000; i++) dspot.step(draw() + 2);
    expect(dspot.level).toBeCloseTo(2, 0);
    expect(dspot.threshold - before).toBeGreaterThan(1.5);
    expect(dspot.threshold - before).toBeLessThan(2.5);
  });
});
