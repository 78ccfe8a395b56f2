import { describe, expect, it } from 'vitest';
import { averagePrecision, caseMetrics, summariseType, type SyntheticCase } from '../../../../src/eval/synthetic/index.ts';

describe('averagePrecision', () => {
  it('matches hand-computed values (scikit-learn\'s definition)', () => {
    // Highest first: 0.9 (+) P=1 R=1/2; 0.8 (−); 0.1 (+) P=2/3 R=1 → 1/2 + 1/2 · 2/3.
    expect(averagePrecision([0.9, 0.8, 0.1], [1, 0, 1])).toBeCloseTo(5 / 6, 12);
    expect(averagePrecision([3, 2, 1], [1, 1, 0])).toBe(1);
    // scikit-learn's documented example: average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.83
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.8333333333, 9);
  });

  it('enters tied scores together: all tied gives the positive rate', () => {
    expect(averagePrecision([5, 5, 5, 5], [1, 0, 0, 0])).toBe(0.25);
  });
});

describe('caseMetrics', () => {
  // 10 rows: fit 0–3, held-out tail 4–5, test 6–9; a segment at row 7, its margin of 1 row at 8.
  const c: SyntheticCase = {
    id: 'univariate/x/0', layout: 'univariate', type: 'x', caseIndex: 0, channels: ['value'],
    timestamps: new Float64Array(10), values: new Float64Array(10),
    segments: [{ start: 7, end: 7 }],
    labels: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 1, 0, 0]),
    excluded: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 0]),
  };

  it('thresholds at the held-out tail\'s max, leaves the margin out, and measures the delay', () => {
    const scores = Float64Array.from([9, 9, 9, 9, 0.5, 0.6, 0.2, 0.4, 0.9, 0.7]);
    const m = caseMetrics(c, scores, { fit: 4, train: 6 }, 1);
    expect(m.threshold).toBe(0.6); // the fit rows' 9s are not the threshold
    expect(m.positives).toBe(1);
    expect(m.negatives).toBe(2); // rows 6 and 9; row 8 is the margin
    expect(m.auc).toBe(0.5); // 0.4 beats 0.2, loses to 0.7
    expect(m.delays).toEqual([1]); // row 8 (inside the margin) is the first above 0.6
    expect(m.falseAlarmRate).toBe(0.5); // row 9
  });

  it('reports a missed segment as null and summarises over cases', () => {
    const scores = Float64Array.from([0, 0, 0, 0, 0.5, 0.6, 0.2, 0.4, 0.3, 0.1]);
    const m = caseMetrics(c, scores, { fit: 4, train: 6 }, 1);
    expect(m.delays).toEqual([null]);
    expect(m.auc).toBe(1);
    const s = summariseType([m, { ...m, auc: 0.5, delays: [4] }]);
    expect(s.auc).toBe(0.75);
    expect(s.aucMin).toBe(0.5);
    expect(s).toMatchObject({ cases: 2, segments: 2, detected: 1, medianDelay: 4 });
  });
});
