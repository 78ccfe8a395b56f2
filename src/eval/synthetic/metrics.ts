/**
 * The figures of one case for one detector, from the per-row scores of the streamed replay:
 *
 * - ROC AUC and average precision over the test rows: label 1 inside a segment, 0 elsewhere, and
 *   the `marginRows` after a segment left out (windows that still hold the anomaly are neither
 *   a hit nor a false alarm).
 * - The threshold, fixed without labels: the largest score on the held-out normal tail of the
 *   training part (rows [fit, train)), which the detector never trained on.
 * - Detection delay per segment: rows from its start to the first row in [start, end + margin]
 *   whose score exceeds the threshold; null when none does.
 * - The false-alarm rate: the share of negative test rows above the threshold.
 */
import { rocAuc } from '../../model/rocAuc.ts';
import type { SyntheticCase } from './cases.ts';

export interface CaseMetrics {
  auc: number;
  averagePrecision: number;
  threshold: number;
  /** Per segment, in segment order. */
  delays: (number | null)[];
  falseAlarmRate: number;
  positives: number;
  negatives: number;
}

/**
 * Average precision as scikit-learn's `average_precision_score`: Σ (Rₖ − Rₖ₋₁) · Pₖ over the
 * distinct score thresholds, highest first; tied scores enter together.
 *
 * @example averagePrecision([0.9, 0.8, 0.1], [1, 0, 1]) // 1·1/2 + (1/2)·(2/3) = 5/6
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const positives = order.reduce((n, i) => n + (labels[i] === 1 ? 1 : 0), 0);
  if (positives === 0) return Number.NaN;
  let tp = 0;
  let seen = 0;
  let ap = 0;
  for (let i = 0; i < order.length; ) {
    let tpHere = 0;
    let j = i;
    for (; j < order.length && scores[order[j]] === scores[order[i]]; j++) tpHere += labels[order[j]] === 1 ? 1 : 0;
    tp += tpHere;
    seen += j - i;
    ap += (tpHere / positives) * (tp / seen);
    i = j;
  }
  return ap;
}

/** The label-free threshold: the largest score over rows [from, to). */
export function holdoutThreshold(scores: Float64Array, from: number, to: number): number {
  let max = -Infinity;
  for (let t = from; t < to; t++) max = Math.max(max, scores[t]);
  return max;
}

export function caseMetrics(c: SyntheticCase, scores: Float64Array, rows: { fit: number; train: number }, marginRows: number): CaseMetrics {
  const threshold = holdoutThreshold(scores, rows.fit, rows.train);
  const pos: number[] = [];
  const neg: number[] = [];
  const evalScores: number[] = [];
  const evalLabels: number[] = [];
  for (let t = rows.train; t < scores.length; t++) {
    if (c.excluded[t] === 1) continue;
    (c.labels[t] === 1 ? pos : neg).push(scores[t]);
    evalScores.push(scores[t]);
    evalLabels.push(c.labels[t]);
  }
  const delays = c.segments.map(({ start, end }) => {
    for (let t = start; t <= Math.min(end + marginRows, scores.length - 1); t++) if (scores[t] > threshold) return t - start;
    return null;
  });
  return {
    auc: rocAuc(pos, neg),
    averagePrecision: averagePrecision(evalScores, evalLabels),
    threshold,
    delays,
    falseAlarmRate: neg.filter((s) => s > threshold).length / neg.length,
    positives: pos.length,
    negatives: neg.length,
  };
}

export interface TypeSummary {
  cases: number;
  /** Mean over cases: every case weighs the same, whatever its number of positives. */
  auc: number;
  aucMin: number;
  averagePrecision: number;
  segments: number;
  detected: number;
  /** Median over the detected segments of every case; null when none was detected. */
  medianDelay: number | null;
  falseAlarmRate: number;
}

export function summariseType(ms: readonly CaseMetrics[]): TypeSummary {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const delays = ms.flatMap((m) => m.delays.filter((d): d is number => d !== null)).sort((a, b) => a - b);
  const n = delays.length;
  return {
    cases: ms.length,
    auc: mean(ms.map((m) => m.auc)),
    aucMin: Math.min(...ms.map((m) => m.auc)),
    averagePrecision: mean(ms.map((m) => m.averagePrecision)),
    segments: ms.reduce((a, m) => a + m.delays.length, 0),
    detected: n,
    medianDelay: n === 0 ? null : n % 2 === 1 ? delays[(n - 1) / 2] : (delays[n / 2 - 1] + delays[n / 2]) / 2,
    falseAlarmRate: mean(ms.map((m) => m.falseAlarmRate)),
  };
}
