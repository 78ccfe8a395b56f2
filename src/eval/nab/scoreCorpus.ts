/**
 * Scores a whole corpus at one threshold, per file and in total, as NAB's scoring step
 * does with a stored threshold (numenta/NAB `nab/scorer.py` `scoreCorpus`).
 */
import type { PreparedCorpus } from './prepareCorpus.ts';
import { scoreFile } from './scoreFile.ts';
import type { CostMatrix, ThresholdScore } from './types.ts';

export interface FileScore extends ThresholdScore {
  path: string;
  /** All rows of the file, probationary ones included (NAB's `Total_Count`). */
  rows: number;
}

export interface CorpusScore {
  /** The corpus totals; `score` is the raw NAB score. */
  total: ThresholdScore;
  files: FileScore[];
}

/**
 * @param threshold rows with `anomaly_score >= threshold` are detections.
 * @example scoreCorpus(prepareCorpus(results), 0.5422, profiles.standard).total.score // 46.63 for numenta
 */
export function scoreCorpus(prepared: PreparedCorpus, threshold: number, cost: CostMatrix): CorpusScore {
  const total: ThresholdScore = { threshold, score: 0, tp: 0, tn: 0, fp: 0, fn: 0, detectedWindows: 0, missedWindows: 0 };
  const files: FileScore[] = [];
  for (const file of prepared.files) {
    const s = scoreFile(prepared, file, threshold, cost);
    files.push({ ...s, path: file.path, rows: file.rowEnd - file.rowStart });
    total.score += s.score;
    total.tp += s.tp;
    total.tn += s.tn;
    total.fp += s.fp;
    total.fn += s.fn;
    total.detectedWindows += s.detectedWindows;
    total.missedWindows += s.missedWindows;
  }
  return { total, files };
}
