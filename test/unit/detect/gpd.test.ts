import { describe, expect, it } from 'vitest';
import { fitGpd, fitGpdMoments, gpdLogLikelihood, tailQuantile } from '../../../src/detect/gpd.ts';
import { mulberry32 as uniform } from '../../../src/random.ts';


/** n draws of GPD(γ, σ) by inversion: Y = σ/γ (U^-γ - 1). */
function gpdSample(gamma: number, sigma: number, n: number, seed: number): Float64Array {
  const u = uniform(seed);
  return Float64Array.from({ length: n }, () => {
    const v = 1 - u();
    return gamma === 0 ? -sigma * Math.log(v) : (sigma / gamma) * (Math.pow(v, -gamma) - 1);
  });
}

describe('fitGpd (Grimshaw)', () => {
  it.each([
    [0.3, 2],
    [0, 1],
    [-0.2, 1.5],
    [0.8, 0.5],
  ])('recovers γ = %s, σ = %s from 4000 samples', (gamma, sigma) => {
    const fit = fitGpd(gpdSample(gamma, sigma, 4000, 11));
    expect(fit.method).toBe('grimshaw');
    expect(Math.abs(fit.gamma - gamma)).toBeLessThan(0.06);
    expect(Math.abs(fit.sigma / sigma - 1)).toBeLessThan(0.08);
  });

  it('finds a likelihood at least as good as the exponential and the method of moments', () => {
    const y = gpdSample(0.4, 1, 500, 3);
    const fit = fitGpd(y);
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(gpdLogLikelihood(y, y.length, 0, mean));
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(fitGpdMoments(y).logLikelihood);
    expect(fit.logLikelihood).toBeCloseTo(gpdLogLikelihood(y, y.length, fit.gamma, fit.sigma), 9);
  });

  it('beats the method of moments on a heavy tail (γ > 1/2 is outside its range)', () => {
    const y = gpdSample(0.8, 1, 4000, 5);
    expect(fitGpdMoments(y).gamma).toBeLessThan(0.5);
    expect(fitGpd(y).gamma).toBeGreaterThan(0.7);
  });

  it('fits right-censored excesses without the bias of dropping them', () => {
    const y = gpdSample(0.1, 1, 4000, 9);
    const c = 4; // about 2.5 % of the draws exceed it
    const censored = Uint8Array.from(y, (v) => (v > c ? 1 : 0));
    const clipped = Float64Array.from(y, (v) => Math.min(v, c));
    const fit = fitGpd(clipped, { censored });
    expect(Math.abs(fit.gamma - 0.1)).toBeLessThan(0.06);
    expect(Math.abs(fit.sigma - 1)).toBeLessThan(0.08);
    const dropped = fitGpd(y.filter((v) => v <= c));
    expect(dropped.gamma).toBeLessThan(fit.gamma - 0.1); // truncation pulls the tail in
  });
});

describe('degenerate input', () => {
  it('uses the method of moments for fewer than 10 excesses', () => {
    const fit = fitGpd(Float64Array.of(0.5, 1.2, 0.1, 2.5, 0.7));
    expect(fit.method).toBe('moments');
    expect(fit.sigma).toBeGreaterThan(0);
  });

  it('fits all-equal excesses as an exponential with their mean', () => {
    const fit = fitGpd(new Float64Array(50).fill(2));
    expect(fit).toMatchObject({ method: 'exponential', gamma: 0, sigma: 2 });
  });

  it('fits no excess as empty, whose tail quantile is the threshold itself', () => {
    const fit = fitGpd(new Float64Array(0));
    expect(fit).toMatchObject({ method: 'empty', sigma: 0 });
    expect(tailQuantile(3, fit, 1e-3, 1000, 0)).toBe(3);
  });
});

describe('tailQuantile', () => {
  it('is the level exceeded with probability q: (N_t / n) P(Y > z - t) = q', () => {
    const t = 2;
    const n = 10_000;
    const nPeaks = 200;
    for (const fit of [{ gamma: 0.25, sigma: 1.5 }, { gamma: -0.3, sigma: 1 }]) {
      const z = tailQuantile(t, fit, 1e-4, n, nPeaks);
      const survival = Math.pow(1 + (fit.gamma * (z - t)) / fit.sigma, -1 / fit.gamma);
      expect((nPeaks / n) * survival).toBeCloseTo(1e-4, 12);
    }
  });

  it('uses the exponential limit t - σ log(q n / N_t) at γ = 0, continuously', () => {
    const z0 = tailQuantile(1, { gamma: 0, sigma: 2 }, 1e-3, 5000, 100);
    expect(z0).toBeCloseTo(1 - 2 * Math.log(0.05), 12);
    expect(tailQuantile(1, { gamma: 1e-6, sigma: 2 }, 1e-3, 5000, 100)).toBeCloseTo(z0, 4);
  });
});
