import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';

export interface BatchWhileBusyOptions {
  /** Items per call at most; an idle caller gets a full batch at once. */
  maxSize: number;
  /** ms an idle caller waits after the first item of a batch before calling with what is there. */
  maxWaitMs: number;
  /** Clock for the wait; tests pass a TestScheduler. */
  scheduler?: SchedulerLike;
}

/**
 * Calls `call` with batches of items (of any entity), one call at a time, and emits the results
 * in call order. While `call` is idle a batch goes out when it is full or `maxWaitMs` after its
 * first item; while a call runs, items wait, and the moment it returns everything that arrived
 * meanwhile goes out as the next batch (up to `maxSize`). So batches grow with the load: a slow
 * call (a model on a busy machine, a live stream of small fetches) is never handed a queue of
 * tiny batches, each paying the call's fixed cost ("natural batching", Thompson, Mechanical
 * Sympathy 2011). An idle stream costs no timers and never calls with an empty batch; what is
 * buffered when the source completes is still called, and the result completes after it.
 *
 * @example
 * windows$.pipe(batchWhileBusy({ maxSize: 256, maxWaitMs: 20 }, (ws) => scorer.score(ws)))
 */
export function batchWhileBusy<T, R>(opts: BatchWhileBusyOptions, call: (batch: T[]) => Promise<R>): OperatorFunction<T, R> {
  const { maxSize, maxWaitMs, scheduler = asyncScheduler } = opts;
  if (!(Number.isInteger(maxSize) && maxSize >= 1)) {
    throw new RangeError(`batchWhileBusy: maxSize must be an integer >= 1, got ${maxSize}`);
  }
  return (source) =>
    new Observable<R>((subscriber) => {
      let buffer: T[] = [];
      let timer: Subscription | null = null;
      let busy = false;
      let sourceDone = false;

      const start = () => {
        timer?.unsubscribe();
        timer = null;
        if (busy || buffer.length === 0 || subscriber.closed) return;
        const batch = buffer.length <= maxSize ? buffer : buffer.slice(0, maxSize);
        buffer = buffer.length <= maxSize ? [] : buffer.slice(maxSize);
        busy = true;
        call(batch).then(
          (result) => {
            busy = false;
            if (subscriber.closed) return;
            subscriber.next(result);
            if (buffer.length > 0) start();
            else if (sourceDone) subscriber.complete();
          },
          (err) => subscriber.error(err),
        );
      };

      const sub = source.subscribe({
        next: (item) => {
          buffer.push(item);
          if (busy) return;
          if (buffer.length >= maxSize) start();
          else if (timer === null) timer = scheduler.schedule(start, maxWaitMs);
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          if (busy) return;
          if (buffer.length > 0) start();
          else subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        timer?.unsubscribe();
      };
    });
}
