/** The training queue with jobs the test finishes by hand: concurrency, order, failures, idle. */
import { describe, expect, it } from 'vitest';
import { createTrainingQueue } from '../../../src/modelOps/trainingQueue.ts';

interface Job {
  id: number;
  started: boolean;
  resolve(v: number): void;
  reject(e: unknown): void;
}

/** Jobs whose promises settle only when the test says so; records start order and peak concurrency. */
function jobs() {
  const all: Job[] = [];
  const starts: number[] = [];
  let running = 0;
  let peak = 0;
  const make = (id: number) => () => {
    running++;
    peak = Math.max(peak, running);
    starts.push(id);
    return new Promise<number>((resolve, reject) => {
      all[id] = {
        id,
        started: true,
        resolve: (v) => {
          running--;
          resolve(v);
        },
        reject: (e) => {
          running--;
          reject(e);
        },
      };
    });
  };
  return { all, starts, make, peak: () => peak, running: () => running };
}

/** Let every settled promise's handlers run (microtasks only, no timers). */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('createTrainingQueue', () => {
  it('never runs more than `concurrency` jobs, and starts the waiting ones in arrival order', async () => {
    const q = createTrainingQueue(2);
    const j = jobs();
    const results = [0, 1, 2, 3, 4].map((id) => q.run(j.make(id)));
    await flush();
    expect(j.starts).toEqual([0, 1]);
    expect(q.size()).toBe(5);

    j.all[1].resolve(10);
    await flush();
    expect(j.starts).toEqual([0, 1, 2]);
    expect(q.size()).toBe(4);

    j.all[0].resolve(0);
    await flush();
    expect(j.starts).toEqual([0, 1, 2, 3]);
    j.all[3].resolve(30);
    j.all[2].resolve(20);
    await flush();
    expect(j.starts).toEqual([0, 1, 2, 3, 4]);
    j.all[4].resolve(40);
    expect(await Promise.all(results)).toEqual([0, 10, 20, 30, 40]);
    expect(j.peak()).toBe(2);
    expect(q.size()).toBe(0);
  });

  it('with concurrency 1 runs jobs one after another, first come first served', async () => {
    const q = createTrainingQueue(1);
    const j = jobs();
    const results = [0, 1, 2].map((id) => q.run(j.make(id)));
    for (let id = 0; id < 3; id++) {
      await flush();
      expect(j.starts).toEqual([0, 1, 2].slice(0, id + 1));
      j.all[id].resolve(id);
    }
    await Promise.all(results);
    expect(j.peak()).toBe(1);
  });

  it('a rejected job rejects its own promise and frees its slot for the next', async () => {
    const q = createTrainingQueue(1);
    const j = jobs();
    const failed = q.run(j.make(0));
    const next = q.run(j.make(1));
    await flush();
    expect(j.starts).toEqual([0]);
    const boom = new Error('training failed');
    j.all[0].reject(boom);
    await expect(failed).rejects.toBe(boom);
    await flush();
    expect(j.starts).toEqual([0, 1]);
    j.all[1].resolve(7);
    expect(await next).toBe(7);
    await flush();
    expect(q.size()).toBe(0);
  });

  // A job that throws before returning a promise must still settle and free its slot.
  it('a job that throws before returning a promise rejects and does not hold a slot', async () => {
    const q = createTrainingQueue(1);
    const j = jobs();
    const first = q.run(j.make(0));
    // Queued behind a running job, so it starts from the slot the first one frees.
    let settled: 'pending' | 'resolved' | 'rejected' = 'pending';
    const thrown = q.run((): Promise<number> => {
      throw new Error('bad options');
    });
    thrown.then(
      () => (settled = 'resolved'),
      () => (settled = 'rejected'),
    );
    const next = q.run(j.make(1));
    await flush();
    j.all[0].resolve(0);
    await first;
    await flush();
    expect(settled).toBe('rejected');
    expect(j.starts).toEqual([0, 1]);
    j.all[1].resolve(1);
    expect(await next).toBe(1);
  });

  it('idle() resolves at once when empty, and otherwise only when every job is done', async () => {
    const q = createTrainingQueue(2);
    let early = false;
    await q.idle().then(() => (early = true));
    expect(early).toBe(true);

    const j = jobs();
    const results = [0, 1, 2].map((id) => q.run(j.make(id)).catch(() => -1));
    let idle = false;
    const waiting = q.idle().then(() => (idle = true));
    await flush();
    j.all[0].resolve(0);
    await flush();
    expect(idle).toBe(false); // 1 running, 2 started
    j.all[1].reject(new Error('x'));
    await flush();
    expect(idle).toBe(false);
    expect(q.size()).toBe(1);
    j.all[2].resolve(2);
    await waiting;
    expect(idle).toBe(true);
    expect(await Promise.all(results)).toEqual([0, -1, 2]);
  });

  it('idle() waits for running jobs even when none is waiting', async () => {
    const q = createTrainingQueue(2);
    const j = jobs();
    const results = [0, 1].map((id) => q.run(j.make(id)));
    await flush();
    let idle = false;
    const waiting = q.idle().then(() => (idle = true));
    await flush();
    expect(idle).toBe(false);
    j.all[0].resolve(0);
    await flush();
    expect(idle).toBe(false);
    j.all[1].resolve(1);
    await waiting;
    expect(await Promise.all(results)).toEqual([0, 1]);
  });

  it('size() counts running plus waiting jobs', async () => {
    const q = createTrainingQueue(1);
    const j = jobs();
    expect(q.size()).toBe(0);
    const a = q.run(j.make(0));
    expect(q.size()).toBe(1);
    const b = q.run(j.make(1));
    const c = q.run(j.make(2));
    expect(q.size()).toBe(3);
    await flush();
    j.all[0].resolve(0);
    await a;
    await flush();
    expect(q.size()).toBe(2);
    j.all[1].resolve(1);
    await b;
    await flush();
    j.all[2].resolve(2);
    await c;
    await flush();
    expect(q.size()).toBe(0);
  });
});
