import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import { ONSET_SCORER_DEFAULTS, OnsetScorer, recentMean, type OnsetScorerConfig } from '../../../src/detect/onsetScorer.ts';
import { mulberry32 } from '../../../src/random.ts';

const CFG: OnsetScorerConfig = {
  ...ONSET_SCORER_DEFAULTS,
  recentPoints: 2,
  tailRank: { minHistory: 20, capacity: 10_000, excessWeight: 3 },
  rangeNovelty: { minPoints: 20 },
  gate: { holdWindows: 10, recentFactor: 1, damping: 0, level: 3 },
};

/** Point scores of a window whose newest two points have error `e`. */
const window = (e: number, L = 8) => Float32Array.from({ length: L }, (_, i) => (i >= L - 2 ? e : 0.01));

describe('recentMean', () => {
  it('averages the newest k point scores, or all of them when there are fewer', () => {
    expect(recentMean([1, 2, 3, 4], 2)).toBe(3.5);
    expect(recentMean([1, 2], 5)).toBe(1.5);
  });
});

describe('OnsetScorer', () => {
  const u = mulberry32(11);
  const noise = Array.from({ length: 400 }, () => 0.5 + 0.2 * u());

  it('turns a rare model error into one loud window and an onset, and is quiet on ordinary errors', () => {
    const s = new OnsetScorer(CFG);
    const out = noise.map((e, i) => s.update(window(e), [Math.sin(i / 5)]));
    // After the first history, ordinary errors never reach the level that pages.
    expect(out.slice(100).some((d) => d.onset)).toBe(false);
    const big = s.update(window(50), [0]);
    expect(big.onset).toBe(true);
    expect(big.rank).toBeGreaterThan(Math.log10(400));
    expect(big.score).toBeGreaterThan(Math.max(...out.slice(100).map((d) => d.score)));
    expect(big.score).toBeLessThan(1);
    // The excursion's next window, as large, is damped to 0 and opens nothing.
    const next = s.update(window(50), [0]);
    expect(next).toMatchObject({ gated: 0, score: 0, onset: false });
  });

  it('adds the novelty bonus, ramped by the excess over the range, when the value leaves the range', () => {
    const base = () => {
      const s = new OnsetScorer(CFG);
      noise.forEach((e, i) => s.update(window(e), [i % 2 === 0 ? -1 : 1])); // range [-1, 1]
      return s;
    };
    const inside = base().update(window(0.6), [0.5]);
    const nudge = base().update(window(0.6), [1 + 0.025 * 2]); // half the ramp (0.05 of a range of 2)
    const far = base().update(window(0.6), [5]);
    expect(inside.novelty).toBe(0);
    expect(nudge.evidence - nudge.rank).toBeCloseTo(CFG.noveltyBonus / 2, 6);
    expect(far.evidence - far.rank).toBeCloseTo(CFG.noveltyBonus, 12);
    expect(far.onset).toBe(true);
    expect(inside.onset).toBe(false);
  });

  it('judges the first window against the points observed before it', () => {
    const s = new OnsetScorer({ ...CFG, rangeNovelty: { minPoints: 3 } });
    for (const x of [0, 1, 2]) s.observe([x]);
    expect(s.update(window(0.5), [4]).novelty).toBeCloseTo(1, 12);
  });

  it('rejects bad settings with the key', () => {
    expect(() => new OnsetScorer({ ...CFG, recentPoints: 0 })).toThrow(ConfigError);
    expect(() => new OnsetScorer({ ...CFG, noveltyRamp: 0 })).toThrow(/noveltyRamp/);
    expect(() => new OnsetScorer({ ...CFG, half: 0 })).toThrow(/half/);
    expect(() => new OnsetScorer({ ...CFG, gate: { ...CFG.gate, damping: -1 } })).toThrow(/damping/);
  });
});
