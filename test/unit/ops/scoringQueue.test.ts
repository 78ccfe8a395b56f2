/** The scoring queue gauge reads the worker pool's queued weight: windows waiting for a worker. */
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkerPool, type WorkerPool } from '../../../src/modelOps/workerPool.ts';
import type { FixtureReply, FixtureRequest } from '../modelOps/workerPool.fixture.ts';
import { captureLogger } from '../model/helpers.ts';

const entry = new URL('../modelOps/workerPool.fixture.ts', import.meta.url);
let pool: WorkerPool<FixtureRequest, FixtureReply> | undefined;

afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('worker pool queued weight', () => {
  it('sums the weights of the jobs waiting for a worker, and falls to 0 as they run', async () => {
    const p = (pool = createWorkerPool<FixtureRequest, FixtureReply>({ entry, size: 1, log: captureLogger() }));
    const running = p.run({ kind: 'spin', ms: 200 }, [], 7);
    const waiting = [p.run({ kind: 'spin', ms: 1 }, [], 3), p.run({ kind: 'spin', ms: 1 }, [], 5), p.run({ kind: 'spin', ms: 1 })];
    // The first job went to the only worker at once; the other three wait.
    expect(p.stats()).toMatchObject({ busy: 1, queued: 3, queuedWeight: 9 });
    await Promise.all([running, ...waiting]);
    expect(p.stats()).toMatchObject({ busy: 0, queued: 0, queuedWeight: 0 });
  });
});
