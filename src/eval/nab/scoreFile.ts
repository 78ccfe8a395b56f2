/**
 * Scores one file of a prepared corpus at a fixed threshold: the value NAB's
 * `Sweeper.scoreDataSet` returns for it (numenta/NAB `nab/sweeper.py`).
 */
import { OUTSIDE, PROBATION, type PreparedCorpus, type PreparedFile } from './prepareCorpus.ts';
import type { CostMatrix, ThresholdScore } from './types.ts';

/**
 * NAB's score of one file at `threshold`:
 * - a window with no detection costs `fnWeight`;
 * - a detected window scores `tpWeight * S(y) / S(-1)` at its earliest detection only;
 * - each detection outside the windows adds `fpWeight * S(y)` (negative), y measured from the
 *   preceding window, or `-fpWeight` before the first window;
 * - probationary rows count for nothing.
 *
 * @example scoreFile(prepared, prepared.files[0], 0.5, { tpWeight: 1, fpWeight: 0.11, fnWeight: 1, tnWeight: 1 })
 */
export function scoreFile(prepared: PreparedCorpus, file: PreparedFile, threshold: number, cost: CostMatrix): ThresholdScore {
  return scoreRows(prepared, file.rowStart, file.rowEnd, threshold, cost);
}

/** Scores rows [rowStart, rowEnd), which must hold whole windows. Allocation-free apart from the result. */
export function scoreRows(prepared: PreparedCorpus, rowStart: number, rowEnd: number, threshold: number, cost: CostMatrix): ThresholdScore {
  const { scores, windowOf, unitWeight } = prepared;
  const { tpWeight, fpWeight, fnWeight } = cost;
  let fpScore = 0;
  let windowScore = 0;
  let tp = 0, tn = 0, fp = 0, fn = 0;
  let detectedWindows = 0, missedWindows = 0;
  // A window's rows are contiguous, so its best detection is tracked in scalars and settled when it ends.
  let cur = OUTSIDE;
  let curBest = 0;
  let curDetected = false;
  for (let r = rowStart; r < rowEnd; r++) {
    const w = windowOf[r];
    if (w === PROBATION) continue;
    if (w !== cur) {
      if (cur !== OUTSIDE) {
        windowScore += curBest;
        if (curDetected) detectedWindows++;
        else missedWindows++;
      }
      cur = w;
      curBest = -fnWeight;
      curDetected = false;
    }
    const detected = scores[r] >= threshold;
    if (w === OUTSIDE) {
      if (detected) {
        fp++;
        fpScore += unitWeight[r] * fpWeight;
      } else tn++;
      continue;
    }
    if (!detected) {
      fn++;
      continue;
    }
    tp++;
    curDetected = true;
    // NAB keeps the max over the window's detections: the earliest one, as S falls with y.
    const v = unitWeight[r] * tpWeight;
    if (v > curBest) curBest = v;
  }
  if (cur !== OUTSIDE) {
    windowScore += curBest;
    if (curDetected) detectedWindows++;
    else missedWindows++;
  }
  return { threshold, score: fpScore + windowScore, tp, tn, fp, fn, detectedWindows, missedWindows };
}
