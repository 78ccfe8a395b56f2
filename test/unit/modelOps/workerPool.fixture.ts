/** A worker for the pool tests: each request kind exercises one path of the pool. */
import { threadId } from 'node:worker_threads';
import { ModelError } from '../../../src/errors.ts';
import { serveRequests } from '../../../src/modelOps/workerPool.ts';

export type FixtureRequest =
  | { kind: 'double'; values: Float32Array }
  | { kind: 'spin'; ms: number }
  | { kind: 'reject' }
  | { kind: 'exit'; code: number }
  | { kind: 'throwUncaught' };

export type FixtureReply = { threadId: number; values?: Float32Array };

serveRequests<FixtureRequest, FixtureReply>((req) => {
  switch (req.kind) {
    case 'double': {
      const values = req.values.map((v) => 2 * v);
      return { value: { threadId, values }, transfer: [values.buffer as ArrayBuffer] };
    }
    case 'spin': {
      // Busy on purpose: the main thread must stay responsive while a worker computes.
      const until = performance.now() + req.ms;
      while (performance.now() < until);
      return { value: { threadId } };
    }
    case 'reject':
      throw new ModelError('MODEL_NOT_FOUND', 'no checkpoint in /nowhere', { path: '/nowhere' });
    case 'exit':
      process.exit(req.code);
    case 'throwUncaught':
      // Thrown outside the handler's promise: an uncaught exception, which ends the worker.
      setImmediate(() => {
        throw new Error('uncaught in worker');
      });
      return new Promise(() => {});
  }
});
