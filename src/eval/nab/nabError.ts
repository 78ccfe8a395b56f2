/**
 * The errors of the NAB scorer. They extend the project's error tree locally because
 * benchmark scoring is an offline tool, not a pipeline stage: nothing here is retriable.
 */
import { DiffwatchError, type ErrorCoordinates } from '../../errors.ts';

export type NabErrorCode =
  /** A corpus, label, profile or results file is missing. */
  | 'NAB_NOT_FOUND'
  /** A file exists but its content is not what NAB writes (bad header, bad number, bad timestamp). */
  | 'NAB_INVALID'
  /** A label window names a timestamp that is not a row of its data file, or windows overlap. */
  | 'NAB_LABEL_MISMATCH'
  /** A results file has a different number of rows than its data file. */
  | 'NAB_LENGTH_MISMATCH';

export class NabError extends DiffwatchError {
  declare readonly code: NabErrorCode;
  /** coords: `file` (path), and `row` (1-based CSV line) or `window` where known. */
  constructor(code: NabErrorCode, message: string, coords: ErrorCoordinates = {}, cause?: unknown) {
    super(code, message, { coords, cause });
  }
}
