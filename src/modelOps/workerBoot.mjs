// The entry of every pool worker: plain JavaScript, because a worker thread starts without the
// TypeScript loader of its parent. Node does not pass hooks registered with `module.register`
// (what bin/diffwatch.js and vitest use) on to worker threads, so register tsx here, then load
// the TypeScript module named in workerData.entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
