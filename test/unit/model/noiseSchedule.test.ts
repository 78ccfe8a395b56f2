import { describe, expect, it } from 'vitest';
import { makeNoiseSchedule, type NoiseSchedule } from '../../../src/model/noiseSchedule.ts';
import { ModelError } from '../../../src/errors.ts';

const close = (a: number, b: number, tol = 1e-12) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));

function expectConsistent(s: NoiseSchedule): void {
  const { T } = s;
  for (const key of Object.keys(s) as (keyof NoiseSchedule)[]) {
    const v = s[key];
    if (v instanceof Float64Array) {
      expect(v.length, key).toBe(T);
      expect(v.every(Number.isFinite), key).toBe(true);
    }
  }
  let prod = 1;
  for (let t = 0; t < T; t++) {
    prod *= 1 - s.betas[t];
    close(s.alphasCumprod[t], prod);
    if (t > 0) expect(s.alphasCumprod[t]).toBeLessThan(s.alphasCumprod[t - 1]);
    close(s.alphasCumprodPrev[t], t === 0 ? 1 : s.alphasCumprod[t - 1]);
    close(s.sqrtAlphasCumprod[t] ** 2 + s.sqrtOneMinusAlphasCumprod[t] ** 2, 1);
    close(s.sqrtRecipAlphasCumprod[t] * s.sqrtAlphasCumprod[t], 1);
    close(s.sqrtRecipm1AlphasCumprod[t] ** 2, (1 - s.alphasCumprod[t]) / s.alphasCumprod[t], 1e-9);
    // Ho et al. eq. 7
    const ab = s.alphasCumprod[t];
    const abPrev = s.alphasCumprodPrev[t];
    close(s.posteriorVariance[t], ((1 - abPrev) / (1 - ab)) * s.betas[t]);
    close(s.posteriorMeanCoef1[t], (Math.sqrt(abPrev) * s.betas[t]) / (1 - ab));
    close(s.posteriorMeanCoef2[t], (Math.sqrt(s.alphas[t]) * (1 - abPrev)) / (1 - ab));
    // The posterior mean of x_0 itself, noised to x_t without noise, is x_{t-1}'s signal scale.
    close(s.posteriorMeanCoef1[t] + s.posteriorMeanCoef2[t] * Math.sqrt(ab), Math.sqrt(abPrev), 1e-9);
  }
  close(s.posteriorVariance[0], 0);
  close(s.posteriorLogVarianceClipped[0], Math.log(s.posteriorVariance[1]));
  for (let t = 1; t < T; t++) close(s.posteriorLogVarianceClipped[t], Math.log(s.posteriorVariance[t]));
}

describe('makeNoiseSchedule', () => {
  it('linear: betas are the linspace, ᾱ_0 = 1 - β_0, improved-diffusion defaults scaled by 1000/T', () => {
    const s = makeNoiseSchedule({ kind: 'linear', T: 1000 });
    close(s.betas[0], 1e-4);
    close(s.betas[999], 0.02);
    close(s.betas[500] - s.betas[499], (0.02 - 1e-4) / 999, 1e-9);
    close(s.alphasCumprod[0], 1 - 1e-4);
    expect(s.alphasCumprod[999]).toBeLessThan(1e-4); // almost pure noise at the end
    const s100 = makeNoiseSchedule({ kind: 'linear', T: 100 });
    close(s100.betas[0], 1e-3);
    close(s100.betas[99], 0.2);
    expectConsistent(s);
    expectConsistent(s100);
  });

  it('cosine: ᾱ follows cos² with offset s, ᾱ_0 ≈ 1, last β clipped at 0.999', () => {
    const T = 100;
    const s = makeNoiseSchedule({ kind: 'cosine', T });
    const f = (u: number) => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (const t of [0, 10, 50, 98]) close(s.alphasCumprod[t], f((t + 1) / T) / f(0), 1e-9);
    expect(s.alphasCumprod[0]).toBeGreaterThan(0.999);
    expect(s.betas[T - 1]).toBe(0.999);
    expect(s.betas.every((b) => b > 0 && b <= 0.999)).toBe(true);
    expectConsistent(s);
  });

  it('round-trips through JSON via its resolved args', () => {
    for (const args of [{ kind: 'linear', T: 50, betaEnd: 0.3 }, { kind: 'cosine', T: 64, s: 0.01 }] as const) {
      const s = makeNoiseSchedule(args);
      const again = makeNoiseSchedule(JSON.parse(JSON.stringify(s.args)));
      expect(again.args).toEqual(s.args);
      expect(Array.from(again.alphasCumprod)).toEqual(Array.from(s.alphasCumprod));
    }
    expect(makeNoiseSchedule({ kind: 'linear', T: 50, betaEnd: 0.3 }).args).toEqual({ kind: 'linear', T: 50, betaStart: 2e-3, betaEnd: 0.3 });
  });

  it('rejects impossible arguments with the field named', () => {
    const fieldOf = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(ModelError);
        return [(err as ModelError).code, (err as ModelError).coords.field];
      }
      return null;
    };
    expect(fieldOf(() => makeNoiseSchedule({ kind: 'linear', T: 0 }))).toEqual(['MODEL_INVALID', 'T']);
    expect(fieldOf(() => makeNoiseSchedule({ kind: 'linear', T: 10 }))).toEqual(['MODEL_INVALID', 'betaEnd']); // default 0.02·100 = 2
    expect(fieldOf(() => makeNoiseSchedule({ kind: 'linear', T: 10, betaStart: 0.1, betaEnd: 0.05 }))).toEqual(['MODEL_INVALID', 'betaEnd']);
    expect(fieldOf(() => makeNoiseSchedule({ kind: 'sqrt' as 'linear', T: 10 }))).toEqual(['MODEL_INVALID', 'kind']);
  });
});
