import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/model/diffusion.ts';
import { DAILY_HARMONICS, fitTrendCurves, fitTrendLevel, SLOPE_T_CRITICAL, slopeT, trendLevelTerms, trendResiduals } from '../../../src/model/trendLevel.ts';
import { centerWindows, gatherWindows, windowStarts, windowTimestamps } from '../../../src/model/windows.ts';

const DAY = 86_400_000;
const STEP = 300_000; // 5-minute rows
const L = 32;

/** A level rising 0.5 a day with a daily cycle of amplitude 2 and a second harmonic, in column 0; column 1 is noise alone. `[N, 2]` */
function trendRows(N: number, noise: number, seed = 1): { z: Float64Array; timestamps: Float64Array } {
  const rng = seededRng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const timestamps = Float64Array.from({ length: N }, (_, i) => Date.UTC(2024, 0, 1) + i * STEP);
  const z = new Float64Array(N * 2);
  for (let i = 0; i < N; i++) {
    const d = (i * STEP) / DAY;
    const h = 2 * Math.PI * (d - Math.floor(d));
    z[i * 2] = 1 + 0.5 * d + 2 * Math.sin(h) + 0.5 * Math.cos(2 * h) + noise * gauss();
    z[i * 2 + 1] = noise * gauss();
  }
  return { z, timestamps };
}

/** Window means `[W, C]` and timestamps `[W, L]` of the windows of `rows` at `starts`. */
function windowsOf(rows: { z: Float64Array; timestamps: Float64Array }, starts: number[], shift = 0) {
  const w = gatherWindows(rows.z, 2, L, starts).map((v, k) => (k % 2 === 0 ? v + shift : v));
  return { offsets: centerWindows(w, L, 2, [true, false]), timestamps: windowTimestamps(rows.timestamps, L, starts) };
}

describe('fitTrendCurves', () => {
  it('recovers the line and the daily profile of noiseless rows, and fits only the centred channels', () => {
    const rows = trendRows(7 * 288, 0);
    const fit = fitTrendCurves(rows.z, rows.timestamps, 7 * 288, 2, [true, false]);
    expect(fit.coef[1]).toBeNull();
    const coef = fit.coef[0]!;
    expect(coef).toHaveLength(2 + 2 * DAILY_HARMONICS);
    // [a, b, cos h, sin h, cos 2h, sin 2h, cos 3h, sin 3h]
    const want = [1, 0.5, 0, 2, 0.5, 0, 0, 0];
    coef.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
  });

  it('fits rows shorter than a day without failing (the harmonics are then collinear)', () => {
    const rows = trendRows(100, 0.1);
    const fit = fitTrendCurves(rows.z, rows.timestamps, 100, 2, [true, false]);
    expect(fit.coef[0]!.every(Number.isFinite)).toBe(true);
  });
});

describe('trendResiduals', () => {
  const rows = trendRows(14 * 288, 0);
  const fit = fitTrendCurves(rows.z, rows.timestamps, 7 * 288, 2, [true, false]);

  it('is 0 for windows on the curve, days after the fit, and the shift for a shifted window', () => {
    const starts = [8 * 288, 10 * 288 + 77, 13 * 288];
    const onCurve = windowsOf(rows, starts);
    const shifted = windowsOf(rows, starts, 3);
    const r0 = trendResiduals(onCurve.offsets, onCurve.timestamps, 3, L, fit);
    const r1 = trendResiduals(shifted.offsets, shifted.timestamps, 3, L, fit);
    for (let w = 0; w < 3; w++) {
      expect(r0[w * 2]).toBeCloseTo(0, 4);
      expect(r1[w * 2]).toBeCloseTo(3, 4);
      expect(r1[w * 2 + 1]).toBe(0);
    }
  });

  it('names the missing timestamps', () => {
    const w = windowsOf(rows, [0]);
    expect(() => trendResiduals(w.offsets, undefined, 1, L, fit)).toThrow(expect.objectContaining({ code: 'MODEL_MISMATCH', coords: expect.objectContaining({ field: 'timestamps' }) }));
  });
});

describe('fitTrendLevel and trendLevelTerms', () => {
  // 7 days fitted, the next 1.5 days validation, the test a week later still.
  const rows = trendRows(16 * 288, 0.3, 7);
  const trainRows = 7 * 288;
  const validation = windowsOf(rows, windowStarts(trainRows + Math.round(1.5 * 288), L, 1, trainRows));
  const calibrated = fitTrendLevel({ z: rows.z, timestamps: rows.timestamps, N: trainRows }, { ...validation, W: validation.offsets.length / 2, L }, [true, false])!;

  it('has a spread of the windows\' noise on the centred channel, and none on the other', () => {
    // A 32-point mean of noise of sd 0.3 has sd 0.053, plus the line's small extrapolation error.
    expect(calibrated.residual.std[0]).toBeGreaterThan(0.03);
    expect(calibrated.residual.std[0]).toBeLessThan(0.2);
    expect(calibrated.residual.std[1]).toBeNull();
  });

  it('keeps windows where the trend goes near ½ χ²₁, and a window shifted by 1 (3 noise sd) far above every one of them', () => {
    const starts = windowStarts(16 * 288, L, 5, 12 * 288);
    const normal = windowsOf(rows, starts);
    const stepped = windowsOf(rows, starts, 1);
    const n = starts.length;
    const t0 = trendLevelTerms(normal.offsets, normal.timestamps, n, L, calibrated);
    const t1 = trendLevelTerms(stepped.offsets, stepped.timestamps, n, L, calibrated);
    const normalTerms = Array.from({ length: n }, (_, w) => t0[w * 2]);
    const mean = normalTerms.reduce((a, v) => a + v, 0) / n;
    expect(mean).toBeLessThan(2);
    const highestNormal = Math.max(...normalTerms);
    for (let w = 0; w < n; w++) {
      expect(t1[w * 2]).toBeGreaterThan(highestNormal);
      expect(t1[w * 2 + 1]).toBe(0);
    }
  });
});

describe('slopeT', () => {
  // Column 0 trends; column 1 becomes an AR(1) drift (φ 0.995, a half-life of 11.5 hours at 5-minute rows, stationary sd 3) on a line.
  const rows = trendRows(7 * 288, 0.3, 3);
  const rng = seededRng(11);
  let d = 0;
  for (let i = 0; i < 7 * 288; i++) {
    d = 0.995 * d + 3 * Math.sqrt(1 - 0.995 ** 2) * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    rows.z[i * 2 + 1] = 0.5 * (i / 288) + d;
  }
  const N = 7 * 288;

  it('is far above the critical value for a trend under white noise, and below it for a line under a wandering level', () => {
    const fit = fitTrendCurves(rows.z, rows.timestamps, N, 2, [true, true]);
    expect(slopeT(rows.z, rows.timestamps, N, 2, 0, fit)).toBeGreaterThan(10 * SLOPE_T_CRITICAL);
    expect(slopeT(rows.z, rows.timestamps, N, 2, 1, fit)).toBeLessThan(SLOPE_T_CRITICAL);
  });

  it('keeps the level test of the certain trend alone, and none where no slope is certain', () => {
    const validation = windowsOf(rows, windowStarts(N, L, 4, 6 * 288));
    const W = validation.offsets.length / 2;
    const level = fitTrendLevel({ z: rows.z, timestamps: rows.timestamps, N: 6 * 288 }, { ...validation, W, L }, [true, true])!;
    expect(level.coef[0]).not.toBeNull();
    expect(level.coef[1]).toBeNull();
    expect(level.residual.std[1]).toBeNull();
    expect(fitTrendLevel({ z: rows.z, timestamps: rows.timestamps, N: 6 * 288 }, { ...validation, W, L }, [false, true])).toBeUndefined();
  });
});
