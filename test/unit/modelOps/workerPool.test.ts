import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/errors.ts';
import { createWorkerPool, WorkerPoolError, type WorkerPool } from '../../../src/modelOps/workerPool.ts';
import type { FixtureReply, FixtureRequest } from './workerPool.fixture.ts';
import { captureLogger, probeEventLoop } from '../model/helpers.ts';

const entry = new URL('./workerPool.fixture.ts', import.meta.url);
let pool: WorkerPool<FixtureRequest, FixtureReply> | undefined;

function makePool(size: number) {
  pool = createWorkerPool<FixtureRequest, FixtureReply>({ entry, size, log: captureLogger() });
  return pool;
}

afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('createWorkerPool', () => {
  it('moves Float32Arrays both ways without copying', async () => {
    const p = makePool(1);
    const values = new Float32Array([1, -2, 3.5]);
    const res = await p.run({ kind: 'double', values }, [values.buffer]);
    expect(values.length).toBe(0); // detached: the buffer moved to the worker
    expect(Array.from(res.values!)).toEqual([2, -4, 7]);
  });

  it('runs jobs on different workers at the same time', async () => {
    const p = makePool(2);
    const replies = await Promise.all([p.run({ kind: 'spin', ms: 30 }), p.run({ kind: 'spin', ms: 30 })]);
    expect(new Set(replies.map((r) => r.threadId)).size).toBe(2);
  });

  it('queues jobs beyond the pool size and answers each in order', async () => {
    const p = makePool(2);
    const inputs = Array.from({ length: 9 }, (_, i) => Float32Array.from([i, i + 0.5]));
    const results = await Promise.all(inputs.map((values) => p.run({ kind: 'double', values: values.slice() })));
    results.forEach((r, i) => expect(Array.from(r.values!)).toEqual([2 * i, 2 * i + 1]));
    expect(p.stats()).toMatchObject({ busy: 0, queued: 0, alive: 2 });
  });

  it('rejects with the worker error, code and coordinates intact, and keeps the worker', async () => {
    const p = makePool(1);
    const err = await p.run({ kind: 'reject' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ code: 'MODEL_NOT_FOUND', coords: { path: '/nowhere' } });
    expect((await p.run({ kind: 'spin', ms: 0 })).threadId).toBeGreaterThan(0);
    expect(p.stats().restarts).toBe(0);
  });

  it.each([
    ['exits', { kind: 'exit', code: 3 } as const, /exited with code 3/],
    ['throws an uncaught exception', { kind: 'throwUncaught' } as const, /code 1: uncaught in worker/],
  ])('a worker that %s rejects its job with WORKER_CRASHED and is replaced', async (_, req, message) => {
    const p = makePool(1);
    const before = (await p.run({ kind: 'spin', ms: 0 })).threadId;
    const err = await p.run(req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerPoolError);
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ code: 'WORKER_CRASHED', coords: { worker: 0 } });
    expect((err as Error).message).toMatch(message);
    const after = (await p.run({ kind: 'spin', ms: 0 })).threadId;
    expect(after).not.toBe(before);
    expect(p.stats()).toMatchObject({ restarts: 1, alive: 1 });
  });

  it('a crash rejects only the job in flight on that worker', async () => {
    const p = makePool(2);
    const [crashed, fine, queued] = await Promise.allSettled([p.run({ kind: 'exit', code: 2 }), p.run({ kind: 'spin', ms: 20 }), p.run({ kind: 'spin', ms: 0 })]);
    expect(crashed.status).toBe('rejected');
    expect(fine.status).toBe('fulfilled');
    expect(queued.status).toBe('fulfilled');
  });

  it('broadcast reaches every worker once', async () => {
    const p = makePool(2);
    const replies = await p.broadcast({ kind: 'spin', ms: 5 });
    expect(replies).toHaveLength(2);
    expect(new Set(replies.map((r) => r.threadId)).size).toBe(2);
  });

  it('close waits for running jobs, terminates every worker and refuses new jobs', async () => {
    const p = makePool(2);
    const running = p.run({ kind: 'spin', ms: 50 });
    const [first, second] = [p.close(), p.close()];
    await second; // a second close waits for the same shutdown
    expect(p.stats().alive).toBe(0);
    await first;
    await expect(running).resolves.toMatchObject({ threadId: expect.any(Number) });
    expect(p.stats()).toMatchObject({ alive: 0, busy: 0, queued: 0 });
    await expect(p.run({ kind: 'spin', ms: 0 })).rejects.toMatchObject({ code: 'POOL_CLOSED' });
  });

  it('keeps the main event loop free while workers compute', async () => {
    // One worker: on 2 shared cores, a second spinning thread would make the OS, not the pool,
    // the cause of any gap. Were the job run on this thread, the gap would be ≥ 300 ms.
    const p = makePool(1);
    const { maxGap, ticks } = await probeEventLoop(() => Promise.all([p.run({ kind: 'spin', ms: 300 }), p.run({ kind: 'spin', ms: 300 })]));
    expect(ticks).toBeGreaterThan(10);
    expect(maxGap).toBeLessThan(100);
  });

  it('rejects an invalid size', () => {
    expect(() => createWorkerPool({ entry, size: 0 })).toThrow(/positive integer/);
  });
});

describe('workers outside vitest', () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  // The pool and a TypeScript worker, loaded through tsx the way the CLI loads them. A file rather
  // than `node -e`: workers inherit the parent's execArgv, and `--input-type` is refused there.
  const script = (prelude: string) => `${prelude}
    const { createWorkerPool } = await import(${JSON.stringify(`${root}src/modelOps/workerPool.ts`)});
    const pool = createWorkerPool({ entry: new URL(${JSON.stringify(entry.href)}), size: 2 });
    const r = await pool.run({ kind: 'double', values: Float32Array.from([1, 2]) });
    await pool.close();
    console.log(JSON.stringify(Array.from(r.values)));`;

  it.each([
    ['tsx registered by its API, as bin/diffwatch.js does', [], "import { register } from 'tsx/esm/api';\nregister();"],
    ['tsx as an --import loader', ['--import', 'tsx'], ''],
  ])('run with %s', async (_, flags, prelude) => {
    // Inside node_modules (git-ignored) so that the script resolves 'tsx' as the project does.
    const dir = await mkdtemp(path.join(root, 'node_modules', '.pool-test-'));
    try {
      const file = path.join(dir, 'main.mjs');
      await writeFile(file, script(prelude));
      const { stdout } = await promisify(execFile)(process.execPath, [...flags, file], { cwd: root, timeout: 30_000 });
      expect(stdout.trim()).toBe('[2,4]');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
