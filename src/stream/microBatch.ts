import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';

export interface MicroBatchOptions {
  /** Items per batch at most; a full batch is emitted at once. */
  maxSize: number;
  /** ms after the first item of a batch at which the batch is emitted, full or not. */
  maxWaitMs: number;
  /** Clock for the wait; tests pass a TestScheduler. */
  scheduler?: SchedulerLike;
}

/**
 * Collects items (of any entity) into batches of at most `maxSize`, emitted when full or
 * `maxWaitMs` after the batch's first item, whichever comes first. Unlike `bufferTime`, the
 * clock starts with the first item, so an idle stream costs no timers and never emits an
 * empty batch. The open batch is flushed on completion.
 *
 * @example
 * windows$.pipe(microBatch({ maxSize: 256, maxWaitMs: 20 }), concatMap((ws) => scorer.score(ws)))
 */
export function microBatch<T>(opts: MicroBatchOptions): OperatorFunction<T, T[]> {
  const { maxSize, maxWaitMs, scheduler = asyncScheduler } = opts;
  if (!(Number.isInteger(maxSize) && maxSize >= 1)) {
    throw new RangeError(`microBatch: maxSize must be an integer >= 1, got ${maxSize}`);
  }
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let batch: T[] = [];
      let timer: Subscription | null = null;

      const flush = () => {
        timer?.unsubscribe();
        timer = null;
        if (batch.length === 0) return;
        const full = batch;
        batch = [];
        subscriber.next(full);
      };

      const sub = source.subscribe({
        next: (item) => {
          batch.push(item);
          if (batch.length >= maxSize) flush();
          else if (timer === null) timer = scheduler.schedule(flush, maxWaitMs);
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        timer?.unsubscribe();
      };
    });
}
