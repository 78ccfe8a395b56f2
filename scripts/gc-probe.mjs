/**
 * A measuring preload for a `diffwatch run` child, never part of the product. The soak and the
 * poison-message fault test load it:
 *
 *   node --import=<file URL of scripts/gc-probe.mjs> bin/diffwatch.js run ...
 *   NODE_OPTIONS="--import=<file URL of scripts/gc-probe.mjs>" diffwatch run ...
 *
 * On SIGUSR2 it runs a full garbage collection, then logs one line `heap after gc` with the V8
 * heap in use (`heapUsedBytes`) and a sequence number. Heap that survives a full collection is
 * what the process still holds, not garbage it has not collected yet: the soak reads it from
 * /metrics (`diffwatch_heap_live_bytes`), a test may wait for the line.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Same as --expose-gc, without passing a V8 flag to every process NODE_OPTIONS reaches.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
let seq = 0;

process.on('SIGUSR2', () => {
  // Two passes: the first may only run finalizers that free more on the second.
  gc();
  gc();
  const { heapUsed } = process.memoryUsage();
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', ns: 'gcProbe', msg: 'heap after gc', seq: ++seq, heapUsedBytes: heapUsed })}\n`);
});
