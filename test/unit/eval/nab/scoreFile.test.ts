import { describe, expect, it } from 'vitest';
import { prepareCorpus, scoreCorpus, scoreFile, type CostMatrix } from '../../../../src/eval/nab/index.ts';
import { STANDARD, curve, detections, makeResults } from './helpers.ts';

/** Scores one synthetic file; probationary share 0 unless given. */
function score(scores: number[], windows: [number, number][], cost: CostMatrix = STANDARD, probation = 0, threshold = 0.5) {
  const prepared = prepareCorpus(makeResults([{ scores, windows }]), probation);
  return scoreFile(prepared, prepared.files[0], threshold, cost);
}

describe('scoreFile: true positives', () => {
  it('weights a detection by its position in the window, the left edge scoring tpWeight', () => {
    // Window rows 5..9: width 5, y = -(9 - i + 1) / 5.
    expect(score(detections(20, [5]), [[5, 9]]).score).toBeCloseTo(1, 12);
    expect(score(detections(20, [7]), [[5, 9]]).score).toBeCloseTo(curve(-3 / 5) / curve(-1), 12);
    expect(score(detections(20, [9]), [[5, 9]]).score).toBeCloseTo(curve(-1 / 5) / curve(-1), 12);
    const tp2: CostMatrix = { ...STANDARD, tpWeight: 2 };
    expect(score(detections(20, [7]), [[5, 9]], tp2).score).toBeCloseTo((2 * curve(-3 / 5)) / curve(-1), 12);
  });

  it('counts only the earliest detection of a window', () => {
    const early = score(detections(20, [6]), [[5, 9]]);
    const both = score(detections(20, [6, 8, 9]), [[5, 9]]);
    expect(both.score).toBeCloseTo(early.score, 14);
    expect(both.score).toBeCloseTo(curve(-4 / 5) / curve(-1), 12);
    expect(both).toMatchObject({ tp: 3, fn: 2, fp: 0, tn: 15, detectedWindows: 1, missedWindows: 0 });
    // A later detection alone is worth less than the earliest.
    expect(score(detections(20, [8]), [[5, 9]]).score).toBeLessThan(early.score);
  });
});

describe('scoreFile: false negatives and false positives', () => {
  it('charges fnWeight once per missed window', () => {
    const cost: CostMatrix = { ...STANDARD, fnWeight: 2 };
    const s = score(detections(40, [12]), [[3, 6], [10, 14], [30, 33]], cost);
    expect(s.score).toBeCloseTo(-2 + curve(-3 / 5) / curve(-1) - 2, 12);
    expect(s).toMatchObject({ detectedWindows: 1, missedWindows: 2, tp: 1, fn: 4 + 4 + 4, fp: 0 });
  });

  it('charges fpWeight for a detection before any window', () => {
    const s = score(detections(30, [1, 2]), [[20, 24]]);
    expect(s.score).toBeCloseTo(-1 - 2 * 0.11, 12);
    expect(s).toMatchObject({ fp: 2, tn: 23, missedWindows: 1 });
  });

  it('scales a false positive by its distance from the preceding window', () => {
    // Window 5..9 (width 5): y = (i - 9) / 4 after it; beyond y = 3 the cost is the full fpWeight.
    const near = score(detections(40, [5, 11]), [[5, 9]]);
    expect(near.score).toBeCloseTo(1 + 0.11 * curve(2 / 4), 12);
    const far = score(detections(40, [5, 30]), [[5, 9]]);
    expect(far.score).toBeCloseTo(1 - 0.11, 12);
    const atThree = score(detections(40, [5, 21]), [[5, 9]]);
    expect(atThree.score).toBeCloseTo(1 + 0.11 * curve(3), 12);
    expect(near.score).toBeGreaterThan(atThree.score);
  });

  it('measures a false positive from the nearest preceding window only', () => {
    const s = score(detections(60, [5, 21, 33]), [[5, 9], [25, 29]]);
    // Row 21 follows window 1 (y = 12/4 = 3); row 33 follows window 2 (y = 4/4), which is missed.
    expect(s.score).toBeCloseTo(1 + 0.11 * curve(3) - 1 + 0.11 * curve(1), 12);
    expect(s).toMatchObject({ fp: 2, detectedWindows: 1, missedWindows: 1 });
  });
});

describe('scoreFile: probationary period', () => {
  it('ignores detections in the first 15% of the rows', () => {
    // 40 rows: floor(0.15 * 40) = 6 probationary rows.
    const s = score(detections(40, [0, 5]), [], STANDARD, 0.15);
    expect(s.score).toBe(0);
    expect(s).toMatchObject({ fp: 0, tn: 34 });
    const after = score(detections(40, [6]), [], STANDARD, 0.15);
    expect(after.score).toBeCloseTo(-0.11, 12);
  });

  it('scores a window reaching into the period by its true left edge, from its first scored row', () => {
    // Window rows 4..10 (width 7); rows 4 and 5 are probationary.
    const early = score(detections(40, [4]), [[4, 10]], STANDARD, 0.15);
    expect(early.score).toBe(-1);
    expect(early).toMatchObject({ detectedWindows: 0, missedWindows: 1, tp: 0, fn: 5 });
    const s = score(detections(40, [4, 7]), [[4, 10]], STANDARD, 0.15);
    expect(s.score).toBeCloseTo(curve(-4 / 7) / curve(-1), 12);
  });

  it('does not count a window that lies wholly in the period', () => {
    const prepared = prepareCorpus(makeResults([{ scores: detections(40, []), windows: [[1, 3]] }]), 0.15);
    expect(scoreFile(prepared, prepared.files[0], 0.5, STANDARD)).toMatchObject({ score: 0, missedWindows: 0 });
    expect(prepared.scorableWindows).toBe(0);
    expect(prepared.labelWindowCount).toBe(1);
  });
});

describe('scoreCorpus', () => {
  it('sums the files and treats scores at the threshold as detections', () => {
    const results = makeResults([
      { scores: [0, 0, 0.7, 0, 0, 0.4, 0, 0, 0, 0], windows: [[2, 4]] },
      { scores: [0, 0.7, 0, 0, 0, 0, 0, 0, 0, 0], windows: [[6, 8]] },
    ]);
    const prepared = prepareCorpus(results, 0);
    const at = scoreCorpus(prepared, 0.7, STANDARD);
    expect(at.files.map((f) => f.score)).toEqual([expect.closeTo(1, 12), expect.closeTo(-1 - 0.11, 12)]);
    expect(at.total.score).toBeCloseTo(-0.11, 12);
    expect(at.total).toMatchObject({ tp: 1, fp: 1, detectedWindows: 1, missedWindows: 1, tn: 20 - 6 - 1, fn: 5 });
    expect(at.files[0]).toMatchObject({ path: 'synthetic/file_0.csv', rows: 10 });
    // Just above 0.7 nothing is detected.
    expect(scoreCorpus(prepared, 0.7000001, STANDARD).total.score).toBe(-2);
  });

  it('never detects a NaN score', () => {
    const prepared = prepareCorpus(makeResults([{ scores: [0, NaN, NaN, 0], windows: [[1, 2]] }]), 0);
    // At threshold 0 the two zeros are detections (one before, one after the window); the NaNs are not.
    const s = scoreCorpus(prepared, 0, STANDARD).total;
    expect(s).toMatchObject({ tp: 0, fn: 2, fp: 2, missedWindows: 1 });
    expect(s.score).toBeCloseTo(-1 - 0.11 + 0.11 * curve(1), 12);
  });
});
