import { describe, expect, it } from 'vitest';
import { DiffwatchError } from '../../../src/errors.ts';
import { rocAuc } from '../../../src/model/rocAuc.ts';

/** The definition, by brute force over every (positive, negative) pair: 1 if the positive wins, ½ on a tie. */
function pairwiseAuc(pos: number[], neg: number[]): number {
  let wins = 0;
  for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (pos.length * neg.length);
}

describe('rocAuc', () => {
  it('is 1 for perfect separation, 0 for a perfect inversion', () => {
    expect(rocAuc([3, 4, 5], [0, 1, 2])).toBe(1);
    expect(rocAuc([0, 1], [2, 3, 4])).toBe(0);
  });

  it('is 0.5 when every score ties', () => {
    expect(rocAuc([7, 7], [7, 7, 7])).toBe(0.5);
  });

  it('matches hand-computed cases with and without ties', () => {
    // Pairs (p, n): (0.9, 0.1) win, (0.9, 0.8) win, (0.8, 0.1) win, (0.8, 0.8) tie → 3.5 / 4.
    expect(rocAuc([0.9, 0.8], [0.1, 0.8])).toBe(0.875);
    // Pooled ascending: 1(n) 2(p) 3(n) 4(p) → R₊ = 2 + 4 = 6, U = 6 − 3 = 3, AUC = 3 / 4.
    expect(rocAuc([2, 4], [1, 3])).toBe(0.75);
    // Ties across classes: pooled 1(n) 2(p) 2(n) 2(p) 3(p); the three 2s share rank 3.
    // R₊ = 3 + 3 + 5 = 11, U = 11 − 6 = 5, AUC = 5 / (3 · 2) = 5/6.
    expect(rocAuc([2, 2, 3], [1, 2])).toBeCloseTo(5 / 6, 15);
    // One positive in the middle of three negatives: beats one, ties one, loses to one → 1.5 / 3.
    expect(rocAuc([5], [4, 5, 6])).toBe(0.5);
  });

  it('handles infinite scores as the largest and smallest values', () => {
    expect(rocAuc([Infinity, 2], [-Infinity, 1])).toBe(1);
    expect(rocAuc([Infinity], [Infinity, 0])).toBe(0.75);
  });

  it('agrees with the pairwise definition on seeded random scores with many ties', () => {
    let s = 12345;
    const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 20; trial++) {
      // Scores rounded to 1 decimal, so ties within and across classes are common.
      const pos = Array.from({ length: 5 + trial }, () => Math.round(next() * 10 + 2) / 10);
      const neg = Array.from({ length: 30 - trial }, () => Math.round(next() * 10) / 10);
      expect(rocAuc(pos, neg)).toBeCloseTo(pairwiseAuc(pos, neg), 12);
    }
  });

  it('does not depend on the order of the inputs and is symmetric under swapping the classes', () => {
    const pos = [0.3, 0.9, 0.5, 0.5, 0.7];
    const neg = [0.1, 0.5, 0.2, 0.8];
    const auc = rocAuc(pos, neg);
    expect(rocAuc([...pos].reverse(), [...neg].reverse())).toBe(auc);
    expect(rocAuc(neg, pos)).toBeCloseTo(1 - auc, 15);
    expect(rocAuc(Float32Array.from(pos), Float64Array.from(neg))).toBeCloseTo(auc, 6);
  });

  it('rejects an empty class or a NaN score with MODEL_INVALID naming the input', () => {
    const fails = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as DiffwatchError;
      }
      throw new Error('expected rocAuc to throw');
    };
    expect(fails(() => rocAuc([], [1])).code).toBe('MODEL_INVALID');
    expect(fails(() => rocAuc([1], [])).coords.field).toBe('negatives');
    const nan = fails(() => rocAuc([1, Number.NaN], [0]));
    expect(nan.code).toBe('MODEL_INVALID');
    expect(nan.coords.field).toBe('positives[1]');
  });
});
