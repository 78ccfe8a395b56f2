/**
 * At most `concurrency` training jobs at once, the others waiting in arrival order. Each job
 * is one worker thread running a single-threaded backend, so this bounds the CPU share that
 * training takes from scoring and ingest to `concurrency` cores.
 *
 * Example:
 *   const queue = createTrainingQueue(1);
 *   const result = await queue.run(() => trainInBackground({ ... }));
 */
export interface TrainingQueue {
  run<T>(job: () => Promise<T>): Promise<T>;
  /** Jobs running plus waiting. */
  size(): number;
  /** Resolves once no job is running or waiting. */
  idle(): Promise<void>;
}

export function createTrainingQueue(concurrency: number): TrainingQueue {
  let running = 0;
  const waiting: (() => void)[] = [];
  let idleWaiters: (() => void)[] = [];

  const next = () => {
    if (running < concurrency && waiting.length > 0) {
      running++;
      waiting.shift()!();
    }
    if (running === 0 && waiting.length === 0) {
      const ws = idleWaiters;
      idleWaiters = [];
      for (const w of ws) w();
    }
  };

  return {
    run(job) {
      return new Promise((resolve, reject) => {
        waiting.push(() => {
          // Through a promise, so that a job that throws before returning one still frees its slot.
          Promise.resolve()
            .then(job)
            .then(resolve, reject)
            .finally(() => {
              running--;
              next();
            });
        });
        next();
      });
    },
    size: () => running + waiting.length,
    idle: () => (running === 0 && waiting.length === 0 ? Promise.resolve() : new Promise((r) => idleWaiters.push(r))),
  };
}
