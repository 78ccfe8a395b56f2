/**
 * The exact corpus-wide threshold sweep: every distinct anomaly score is tried as the
 * threshold, highest first, updating the score incrementally. This is what numenta/NAB
 * `nab/optimizer.py` does with `Sweeper.calcScoreByThreshold`, without the per-threshold
 * sum over all windows: the rows are sorted once and each row is visited once.
 */
import { OUTSIDE, PROBATION, type PreparedCorpus } from './prepareCorpus.ts';
import type { CostMatrix, ThresholdScore } from './types.ts';

/** NAB's starting threshold, above every score in [0, 1]: nothing is detected. */
export const NO_DETECTION_THRESHOLD = 1.1;

export interface SweepResult {
  /** The threshold with the highest raw score; among equal scores the highest threshold (NAB's stable sort). */
  best: ThresholdScore;
  /** Number of thresholds evaluated (distinct scores, plus the no-detection one). */
  thresholds: number;
}

const orders = new WeakMap<PreparedCorpus, Uint32Array>();

/**
 * Scorable rows (not probationary, score not NaN) sorted by anomaly score, highest first.
 * Cached per corpus: the order does not depend on the profile.
 */
export function sortedRows(prepared: PreparedCorpus): Uint32Array {
  const cached = orders.get(prepared);
  if (cached) return cached;
  const { scores, windowOf } = prepared;
  let n = 0;
  for (let r = 0; r < scores.length; r++) if (windowOf[r] !== PROBATION && !Number.isNaN(scores[r])) n++;
  const order = new Uint32Array(n);
  let k = 0;
  for (let r = 0; r < scores.length; r++) if (windowOf[r] !== PROBATION && !Number.isNaN(scores[r])) order[k++] = r;
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  orders.set(prepared, order);
  return order;
}

/**
 * Finds the threshold that maximises the corpus's raw NAB score for one profile.
 *
 * @example sweep(prepareCorpus(results), profiles.standard).best // { threshold: 0.5422, score: 46.63, ... } for numenta
 */
export function sweep(prepared: PreparedCorpus, cost: CostMatrix): SweepResult {
  const { scores, windowOf, unitWeight, windowScorable } = prepared;
  const { tpWeight, fpWeight, fnWeight } = cost;
  const order = sortedRows(prepared);
  const n = order.length;
  // Each window's current contribution: -fnWeight until detected, then its best detection.
  const windowPart = new Float64Array(windowScorable.length).fill(-fnWeight);
  const detected = new Uint8Array(windowScorable.length);
  let score = -fnWeight * prepared.scorableWindows;
  let tp = 0, fp = 0, fn = 0, tn = 0, detectedWindows = 0;
  for (let r = 0; r < scores.length; r++) {
    if (windowOf[r] === OUTSIDE) tn++;
    else if (windowOf[r] !== PROBATION) fn++;
  }
  const start = n > 0 && scores[order[0]] >= NO_DETECTION_THRESHOLD ? Number.POSITIVE_INFINITY : NO_DETECTION_THRESHOLD;
  const best: ThresholdScore = { threshold: start, score, tp, tn, fp, fn, detectedWindows, missedWindows: prepared.scorableWindows };
  let thresholds = 1;
  let i = 0;
  while (i < n) {
    const threshold = scores[order[i]];
    // Every row with this score becomes a detection together.
    for (; i < n && scores[order[i]] === threshold; i++) {
      const r = order[i];
      const w = windowOf[r];
      if (w === OUTSIDE) {
        fp++;
        tn--;
        score += unitWeight[r] * fpWeight;
        continue;
      }
      tp++;
      fn--;
      if (detected[w] === 0) {
        detected[w] = 1;
        detectedWindows++;
      }
      const v = unitWeight[r] * tpWeight;
      if (v > windowPart[w]) {
        score += v - windowPart[w];
        windowPart[w] = v;
      }
    }
    thresholds++;
    if (score > best.score) {
      best.threshold = threshold;
      best.score = score;
      best.tp = tp;
      best.tn = tn;
      best.fp = fp;
      best.fn = fn;
      best.detectedWindows = detectedWindows;
      best.missedWindows = prepared.scorableWindows - detectedWindows;
    }
  }
  return { best, thresholds };
}
