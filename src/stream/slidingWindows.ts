import { Observable, type OperatorFunction } from 'rxjs';
import type { Row, SourceCoord, Window } from '../types.ts';
import { RowTape } from './rowTape.ts';

export interface SlidingWindowsOptions {
  /** Window length L, in rows. */
  length: number;
  /** Rows between the starts of consecutive windows (1 = a window per new row). */
  hop: number;
  /**
   * Receives the sources that will never be released by a window: on completion, the rows still
   * buffered (whether or not they were part of an emitted window); at once, the sources of a
   * row that is not newer than the newest row seen (a reading seen twice). Called only when non-empty.
   */
  onDiscard: (sources: SourceCoord[], entityId: string) => void;
}

/**
 * Cuts one entity's rows into windows of the newest `length` rows: the first as soon as
 * `length` rows are buffered, then one every `hop` rows (rxjs `bufferCount(length, hop)`
 * without the partial trailing buffers). A window's values and timestamps are views of the
 * entity's row tape (rowTape.ts), not copies: cutting a window costs O(1) typed-array work.
 *
 * Acknowledgement accounting: each window's `releases` are the sources of the `hop` oldest
 * rows, which leave the buffer with it; once that window is durable downstream, those messages
 * are done. When hop > length the rows skipped between windows are released with the next
 * window. Everything still buffered on completion goes to `onDiscard`. Every source is thus
 * handed back exactly once, in one `releases` list or one `onDiscard` call.
 *
 * A series has one row per timestamp: a row at or before the newest row seen (the same reading
 * delivered twice, e.g. re-read after a rebalance, or produced twice) never enters a window; its
 * sources go to `onDiscard` at once. Otherwise a buffer of `length` rows could hold a reading
 * twice and make a window that does not exist in the data, ending one step early.
 *
 * @example
 * rows$.pipe(slidingWindows({ length: 64, hop: 1, onDiscard: (s) => ack(s) }))
 */
export function slidingWindows(opts: SlidingWindowsOptions): OperatorFunction<Row, Window> {
  const { length, hop, onDiscard } = opts;
  if (!(Number.isInteger(length) && length >= 1) || !(Number.isInteger(hop) && hop >= 1)) {
    throw new RangeError(`slidingWindows: length and hop must be integers >= 1, got length=${length} hop=${hop}`);
  }
  return (source) =>
    new Observable<Window>((subscriber) => {
      let tape: RowTape | undefined;
      // Rows that leave the buffer with each window (hop > length: the rest are skipped).
      const leaving = Math.min(hop, length);
      // hop > length: rows still to pass before the next window, and their sources.
      let skip = 0;
      let skipped: SourceCoord[] = [];
      let entityId = '';
      let newest = -Infinity;

      const onRow = (row: Row) => {
        entityId = row.entityId;
        if (row.timestamp <= newest) {
          if (row.sources.length > 0) onDiscard([...row.sources], entityId);
          return;
        }
        newest = row.timestamp;
        if (skip > 0) {
          skip--;
          skipped.push(...row.sources);
          return;
        }
        tape ??= new RowTape(row.values.length, length);
        tape.push(row);
        if (tape.buffered < length) return;
        const { values, timestamps, hasGap, sources } = tape.newest(length);
        const releases = skipped;
        tape.dropOldest(leaving, releases);
        skipped = [];
        skip = hop - leaving;
        const window: Window = {
          entityId, channels: row.channels, length, startTime: timestamps[0], endTime: timestamps[length - 1], timestamps, values, hasGap, sources, releases,
        };
        subscriber.next(window);
      };

      return source.subscribe({
        next: onRow,
        error: (err) => subscriber.error(err),
        complete: () => {
          const rest = skipped;
          tape?.dropOldest(tape.buffered, rest);
          skipped = [];
          if (rest.length > 0) onDiscard(rest, entityId);
          subscriber.complete();
        },
      });
    });
}
