/**
 * How late detections come: for each label window with a detection, the first scorable row at
 * or above the threshold, minus the window's first row, in rows and in time. NAB rewards an
 * early detection (its sigmoid falls across the window), so this is the number behind the score.
 */
import type { WindowRows } from '../labels.ts';

export interface DelayInput {
  timestamps: Float64Array;
  scores: Float64Array;
  windowRows: readonly WindowRows[];
  /** Rows before this are never detections (NAB's probationary period). */
  probationaryRows: number;
}

export interface DetectionDelay {
  /** Windows with at least one scorable detection. */
  detectedWindows: number;
  /** Mean delay over the detected windows; null when none was detected. */
  meanRows: number | null;
  meanMs: number | null;
}

/**
 * @example detectionDelay([{ timestamps, scores, windowRows: [{ left: 100, right: 140 }], probationaryRows: 50 }], 0.9)
 *          // { detectedWindows: 1, meanRows: 12, meanMs: 3_600_000 } when row 112 is the first >= 0.9
 */
export function detectionDelay(files: readonly DelayInput[], threshold: number): DetectionDelay {
  let n = 0;
  let rows = 0;
  let ms = 0;
  for (const f of files) {
    for (const { left, right } of f.windowRows) {
      for (let r = Math.max(left, f.probationaryRows); r <= right; r++) {
        if (f.scores[r] >= threshold) {
          n++;
          rows += r - left;
          ms += f.timestamps[r] - f.timestamps[left];
          break;
        }
      }
    }
  }
  return { detectedWindows: n, meanRows: n > 0 ? rows / n : null, meanMs: n > 0 ? ms / n : null };
}
