/**
 * An in-process replay source: a CSV series as the `Reading`s the service would decode from
 * Kafka, one per row, in file order. Each reading carries synthetic source coordinates whose
 * offset is its row index, so that whatever comes out of the stream can be traced to its row.
 */
import { Observable } from 'rxjs';
import type { CsvSeries } from '../../../ingest/csvSeries.ts';
import type { Reading } from '../../../types.ts';

export interface ReplaySourceOptions {
  entityId: string;
  /** Topic of the synthetic coordinates. Default `nab-replay`. */
  topic?: string;
}

/** The row a reading (or a window's newest source) came from. */
export const rowOfOffset = (offset: string): number => Number(offset);

/**
 * Emits every row synchronously on subscription, then completes. Rows are built lazily, so a
 * long file never exists twice in memory as readings.
 *
 * @example replaySource(readCsvSeries('nyc_taxi.csv'), { entityId: 'realKnownCause/nyc_taxi.csv' })
 *   .pipe(windowsByEntity(cfg, hooks), ...)
 */
export function replaySource(series: CsvSeries, opts: ReplaySourceOptions): Observable<Reading> {
  const topic = opts.topic ?? 'nab-replay';
  const { channels, timestamps, values } = series;
  const C = channels.length;
  return new Observable<Reading>((subscriber) => {
    for (let i = 0; i < timestamps.length && !subscriber.closed; i++) {
      const row: Record<string, number> = {};
      for (let c = 0; c < C; c++) row[channels[c]] = values[i * C + c]; // [N, C]
      subscriber.next({ entityId: opts.entityId, timestamp: timestamps[i], values: row, source: { topic, partition: 0, offset: String(i) } });
    }
    subscriber.complete();
  });
}
