/**
 * Label windows and the probationary period, as NAB's scorer sees them
 * (numenta/NAB `nab/labeler.py`, `nab/util.py` `getProbationPeriod`, `nab/sweeper.py`).
 */
import { NabError } from './nabError.ts';
import type { LabelWindow } from './types.ts';

/** NAB's default share of each file that is not scored. */
export const PROBATIONARY_PERCENT = 0.15;

/**
 * Rows at the start of a file that are not scored: `min(floor(p * rows), p * 5000)`,
 * so 15% of the file, but never more than 750 rows (`nab/util.py` `getProbationPeriod`).
 *
 * @example probationaryLength(4032) // 604
 * @example probationaryLength(10320) // 750
 */
export function probationaryLength(rows: number, probationaryPercent = PROBATIONARY_PERCENT): number {
  return Math.min(Math.floor(probationaryPercent * rows), probationaryPercent * 5000);
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/**
 * Parses NAB's naive timestamps (`2014-04-10 07:15:00` in data files, `2014-04-10 07:15:00.000000`
 * in label files) to epoch ms, read as UTC. NaN when the text is not such a timestamp.
 * Both spellings of one instant give the same number, which is what NAB's exact match needs.
 */
export function parseNabTimestamp(text: string): number {
  const m = TIMESTAMP.exec(text.trim());
  if (m === null) return Number.NaN;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  // Fractions are kept to the microsecond: NAB's labels carry six digits.
  return m[7] === undefined ? ms : ms + Math.round(Number(`0.${m[7]}`) * 1e6) / 1e3;
}

/** A window as row indices of its file, both ends included. */
export interface WindowRows {
  left: number;
  right: number;
}

/**
 * Finds the rows of each label window. Like NAB, the ends must be timestamps of the file
 * exactly (`labeler.py` raises otherwise), the first row with that timestamp is taken
 * (`timestamps.index(...)` in `sweeper.py`), and windows must be in order and disjoint.
 */
export function windowRows(timestamps: Float64Array, windows: readonly LabelWindow[], file: string): WindowRows[] {
  const out: WindowRows[] = [];
  windows.forEach(([start, end], window) => {
    const left = indexOfTime(timestamps, start, 0, file, window);
    const right = indexOfTime(timestamps, end, left, file, window);
    if (out.length > 0 && left <= out[out.length - 1].right) {
      throw new NabError('NAB_LABEL_MISMATCH', `${file}: window ${window} overlaps or precedes the window before it`, { file, window });
    }
    out.push({ left, right });
  });
  return out;
}

function indexOfTime(timestamps: Float64Array, text: string, from: number, file: string, window: number): number {
  const t = parseNabTimestamp(text);
  if (Number.isNaN(t)) {
    throw new NabError('NAB_INVALID', `${file}: window ${window} has a bad timestamp "${text}"`, { file, window });
  }
  for (let i = from; i < timestamps.length; i++) if (timestamps[i] === t) return i;
  throw new NabError(
    'NAB_LABEL_MISMATCH',
    `${file}: window ${window} names ${text}, which is not a row of the data file (at or after the window's start)`,
    { file, window },
  );
}
