import { Observable, type OperatorFunction } from 'rxjs';
import type { Row, SourceCoord, Window } from '../types.ts';

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
 * without the partial trailing buffers).
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
      let buffer: Row[] = [];
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
        buffer.push(row);
        if (buffer.length < length) return;
        const leaving = Math.min(hop, length);
        const releases = skipped;
        for (let i = 0; i < leaving; i++) releases.push(...buffer[i].sources);
        const window = toWindow(buffer, releases);
        buffer = buffer.slice(leaving);
        skipped = [];
        skip = hop - leaving;
        subscriber.next(window);
      };

      return source.subscribe({
        next: onRow,
        error: (err) => subscriber.error(err),
        complete: () => {
          const rest = skipped;
          for (const row of buffer) rest.push(...row.sources);
          buffer = [];
          skipped = [];
          if (rest.length > 0) onDiscard(rest, entityId);
          subscriber.complete();
        },
      });
    });
}

function toWindow(rows: readonly Row[], releases: SourceCoord[]): Window {
  const L = rows.length;
  const channels = rows[0].channels;
  const C = channels.length;
  const values = new Float32Array(L * C); // [L, C], row-major
  const timestamps = new Float64Array(L);
  const sources: SourceCoord[] = [];
  let hasGap = false;
  for (let i = 0; i < L; i++) {
    const row = rows[i];
    values.set(row.values, i * C);
    timestamps[i] = row.timestamp;
    if (row.gap) hasGap = true;
    for (const s of row.sources) sources.push(s);
  }
  return {
    entityId: rows[0].entityId,
    channels,
    length: L,
    startTime: timestamps[0],
    endTime: timestamps[L - 1],
    timestamps,
    values,
    hasGap,
    sources,
    releases,
  };
}
