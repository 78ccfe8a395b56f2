/**
 * Turns a detector's results into flat per-row arrays that every threshold and profile
 * can reuse: which window a row belongs to and its sweep weight before the profile's
 * weights. This is NAB's `Sweeper.calcSweepScore` (numenta/NAB `nab/sweeper.py`) done once.
 */
import { PROBATIONARY_PERCENT, probationaryLength, windowRows } from './labels.ts';
import { MAX_TP, scaledSigmoid } from './scaledSigmoid.ts';
import type { DetectorResults } from './types.ts';

/** `windowOf` value of a scorable row outside every window. */
export const OUTSIDE = -1;
/** `windowOf` value of a row in the probationary period: never scored. */
export const PROBATION = -2;

/** Where one file lives in the flat arrays. */
export interface PreparedFile {
  path: string;
  /** Rows [rowStart, rowEnd) of the flat arrays. */
  rowStart: number;
  rowEnd: number;
  probationaryRows: number;
  /** Global window ids [windowStart, windowEnd). */
  windowStart: number;
  windowEnd: number;
}

export interface PreparedCorpus {
  detector: string;
  files: PreparedFile[];
  /** anomaly_score per row, all files end to end. */
  scores: Float64Array;
  /** Global window id of each row, or OUTSIDE, or PROBATION. */
  windowOf: Int32Array;
  /**
   * The row's score if detected, before the profile weight: inside a window
   * `S(y) / S(-1)` (times tpWeight), outside `S(y)` or -1 (times fpWeight).
   */
  unitWeight: Float64Array;
  /** 1 when the window has at least one scorable row (it can be missed, so it costs fnWeight). */
  windowScorable: Uint8Array;
  /** Windows with at least one scorable row. */
  scorableWindows: number;
  /** All windows in the label file; the perfect score is this times tpWeight. */
  labelWindowCount: number;
}

/**
 * Prepares a detector's results for scoring.
 *
 * @param probationaryPercent share of each file left unscored (NAB: 0.15, capped at 750 rows).
 */
export function prepareCorpus(results: DetectorResults, probationaryPercent = PROBATIONARY_PERCENT): PreparedCorpus {
  let totalRows = 0;
  let totalWindows = 0;
  for (const f of results.files) {
    totalRows += f.scores.length;
    totalWindows += f.windows.length;
  }
  const scores = new Float64Array(totalRows);
  const windowOf = new Int32Array(totalRows);
  const unitWeight = new Float64Array(totalRows);
  const windowScorable = new Uint8Array(totalWindows);
  const files: PreparedFile[] = [];
  let row = 0;
  let win = 0;
  for (const f of results.files) {
    const rows = f.scores.length;
    const probation = probationaryLength(rows, probationaryPercent);
    const ranges = windowRows(f.timestamps, f.windows, f.path);
    scores.set(f.scores, row);
    fillFileRows(ranges, rows, probation, row, win, windowOf, unitWeight, windowScorable);
    files.push({ path: f.path, rowStart: row, rowEnd: row + rows, probationaryRows: Math.ceil(probation), windowStart: win, windowEnd: win + ranges.length });
    row += rows;
    win += ranges.length;
  }
  let scorableWindows = 0;
  for (let w = 0; w < windowScorable.length; w++) scorableWindows += windowScorable[w];
  return { detector: results.detector, files, scores, windowOf, unitWeight, windowScorable, scorableWindows, labelWindowCount: results.labelWindowCount };
}

/** Per-row window ids and unit weights of one file, written at `offset`. Mirrors `calcSweepScore`. */
function fillFileRows(
  ranges: readonly { left: number; right: number }[],
  rows: number,
  probation: number,
  offset: number,
  firstWindow: number,
  windowOf: Int32Array,
  unitWeight: Float64Array,
  windowScorable: Uint8Array,
): void {
  let next = 0; // index of the next window to enter
  let cur = -1; // window the row is in, -1 outside
  let prevRight = -1; // right edge of the last window left, -1 before any
  let prevWidth = 0;
  for (let i = 0; i < rows; i++) {
    if (next < ranges.length && i === ranges[next].left) cur = next++;
    let weight: number;
    if (cur >= 0) {
      const { left, right } = ranges[cur];
      const width = right - left + 1;
      // y runs from -1 at the left edge to -1/width at the right edge (NAB's `+ 1`).
      weight = scaledSigmoid(-(right - i + 1) / width) / MAX_TP;
    } else if (prevRight < 0) {
      weight = -1.0; // no window yet: as if very far from one
    } else {
      // A one-row window divides by zero here; NAB's Python would raise, JS gives y = ∞ and -1.
      weight = scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1));
    }
    unitWeight[offset + i] = weight;
    if (i < probation) windowOf[offset + i] = PROBATION;
    else if (cur >= 0) {
      windowOf[offset + i] = firstWindow + cur;
      windowScorable[firstWindow + cur] = 1;
    } else windowOf[offset + i] = OUTSIDE;
    if (cur >= 0 && i === ranges[cur].right) {
      prevRight = i;
      prevWidth = ranges[cur].right - ranges[cur].left + 1;
      cur = -1;
    }
  }
}
