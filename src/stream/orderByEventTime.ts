import { Observable, type OperatorFunction } from 'rxjs';

export interface OrderByEventTimeOptions<T> {
  /** ms; a record is held until the newest timestamp seen is this much past it. 0: no reordering. */
  allowedLatenessMs: number;
  /** Receives every record older than the last one emitted; such a record is never emitted. */
  onLate: (record: T) => void;
}

/**
 * Reorders one entity's records by event time within a lateness bound (a watermark of
 * `maxSeenTimestamp - allowedLatenessMs`). Records at or below the watermark are emitted in
 * timestamp order, ties in arrival order. A record older than the last emitted one cannot be
 * placed any more: it goes to `onLate` so that the caller can count it and acknowledge or
 * dead-letter it. On completion the held records are flushed in order.
 *
 * @example
 * group$.pipe(orderByEventTime({ allowedLatenessMs: 5_000, onLate: (r) => late.push(r) }))
 */
export function orderByEventTime<T extends { timestamp: number }>(
  opts: OrderByEventTimeOptions<T>,
): OperatorFunction<T, T> {
  const { allowedLatenessMs, onLate } = opts;
  return (source) =>
    new Observable<T>((subscriber) => {
      const held: T[] = []; // sorted by timestamp, stable
      let maxSeen = -Infinity;
      let lastEmitted = -Infinity;

      const emitUpTo = (watermark: number) => {
        let n = 0;
        while (n < held.length && held[n].timestamp <= watermark) n++;
        if (n === 0) return;
        const ready = held.splice(0, n);
        for (const record of ready) {
          lastEmitted = record.timestamp;
          subscriber.next(record);
        }
      };

      return source.subscribe({
        next: (record) => {
          if (record.timestamp < lastEmitted) {
            onLate(record);
            return;
          }
          held.splice(upperBound(held, record.timestamp), 0, record);
          if (record.timestamp > maxSeen) maxSeen = record.timestamp;
          emitUpTo(maxSeen - allowedLatenessMs);
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          emitUpTo(Infinity);
          subscriber.complete();
        },
      });
    });
}

/** Index of the first record with a timestamp greater than `ts` (keeps ties in arrival order). */
function upperBound<T extends { timestamp: number }>(sorted: readonly T[], ts: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid].timestamp <= ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
