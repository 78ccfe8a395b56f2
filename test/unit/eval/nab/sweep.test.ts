import { describe, expect, it } from 'vitest';
import { NO_DETECTION_THRESHOLD, prepareCorpus, scoreCorpus, sweep, type CostMatrix } from '../../../../src/eval/nab/index.ts';
import { STANDARD, makeResults, type FileSpec } from './helpers.ts';
import { mulberry32 as rng } from '../../../../src/random.ts';


/** Files with two windows each; scores on a coarse grid so that many rows tie, higher inside windows. */
function randomCorpus(seed: number, files: number, rows: number): FileSpec[] {
  const next = rng(seed);
  return Array.from({ length: files }, () => {
    const a = 60 + Math.floor(next() * 60);
    const b = 180 + Math.floor(next() * 60);
    const windows: [number, number][] = [[a, a + 20], [b, b + 30]];
    const scores = Array.from({ length: rows }, (_, i) => {
      const inWindow = windows.some(([l, r]) => i >= l && i <= r);
      return Math.round((inWindow ? 0.3 + 0.7 * next() : next() * next()) * 20) / 20;
    });
    return { scores, windows };
  });
}

/** The slow reference: score the corpus at every distinct threshold, keep the best (highest threshold on ties). */
function bruteForce(specs: FileSpec[], cost: CostMatrix) {
  const prepared = prepareCorpus(makeResults(specs));
  const thresholds = [...new Set(specs.flatMap((s) => s.scores))].sort((a, b) => b - a);
  let best = scoreCorpus(prepared, NO_DETECTION_THRESHOLD, cost).total;
  for (const t of thresholds) {
    const s = scoreCorpus(prepared, t, cost).total;
    if (s.score > best.score + 1e-12) best = s;
  }
  return { best, count: thresholds.length + 1 };
}

describe('sweep', () => {
  const profiles: Record<string, CostMatrix> = {
    standard: STANDARD,
    lowFP: { tpWeight: 1, fpWeight: 0.22, fnWeight: 1, tnWeight: 1 },
    lowFN: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2, tnWeight: 1 },
  };

  for (const seed of [1, 2, 3]) {
    for (const [name, cost] of Object.entries(profiles)) {
      it(`finds the same best threshold as rescoring at every threshold (seed ${seed}, ${name})`, () => {
        const specs = randomCorpus(seed, 4, 300);
        const expected = bruteForce(specs, cost);
        const got = sweep(prepareCorpus(makeResults(specs)), cost);
        expect(got.thresholds).toBe(expected.count);
        expect(got.best.score).toBeCloseTo(expected.best.score, 9);
        expect(got.best.threshold).toBe(expected.best.threshold);
        expect(got.best).toMatchObject({
          tp: expected.best.tp,
          fp: expected.best.fp,
          fn: expected.best.fn,
          tn: expected.best.tn,
          detectedWindows: expected.best.detectedWindows,
          missedWindows: expected.best.missedWindows,
        });
      });
    }
  }

  it('keeps the no-detection threshold when every detection costs more than it earns', () => {
    // Every score is the same, so the only choices are nothing or everything; everything has many FPs.
    const prepared = prepareCorpus(makeResults([{ scores: new Array(200).fill(0.5), windows: [[100, 104]] }]));
    const { best, thresholds } = sweep(prepared, STANDARD);
    expect(thresholds).toBe(2);
    expect(best).toMatchObject({ threshold: NO_DETECTION_THRESHOLD, score: -1, detectedWindows: 0, fp: 0 });
  });

  it('takes all rows of a tied score together', () => {
    // A tie between a row at a window's left edge and a far false positive: both or neither.
    const scores = new Array(100).fill(0);
    scores[40] = 0.9; // left edge of the window
    scores[99] = 0.9; // far after it: -fpWeight
    const prepared = prepareCorpus(makeResults([{ scores, windows: [[40, 44]] }]));
    const { best } = sweep(prepared, STANDARD);
    expect(best.threshold).toBe(0.9);
    expect(best.score).toBeCloseTo(1 - 0.11, 12);
    expect(best).toMatchObject({ tp: 1, fp: 1 });
  });
});
