// Is the binding safe when several worker threads run ops at once?
//   node scripts/native/attrRace.mjs [@tensorflow/tfjs-node | @tensorflow/tfjs-node-gpu | path/to/tfjs_binding.node]
// Exit 0 and one JSON line when it is; a signal, or exit 2 with the reason, when it is not.
//
// tfjs-node's binding keeps one process-wide set of op-attribute names and inserts every name it
// has not seen before. Each thread here passes fresh names on every call, so that the threads
// insert at the same time for WINDOW_MS: without the lock of attr-name-set-mutex.patch that
// corrupts the set, and the process dies (SIGSEGV, SIGABRT) or spins in an endless loop (4 of 10
// runs of the unpatched 4.22 binding failed, 0 of 20 patched ones). No op runs: each call's last
// attribute has an unknown type, which the binding rejects after storing every name before it.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const THREADS = 4;
const WINDOW_MS = 1_500;
const NAMES_PER_CALL = 64;
const UNKNOWN_TYPE = 999;
const HANG_MS = 10_000;

function bindingPath(arg = '@tensorflow/tfjs-node') {
  if (arg.endsWith('.node')) return path.resolve(arg);
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const pkg = createRequire(path.join(root, 'package.json')).resolve(`${arg}/package.json`);
  return createRequire(pkg)('@mapbox/node-pre-gyp').find(pkg);
}

if (isMainThread) {
  const file = bindingPath(process.argv[2]);
  // Loaded here too, so that the library stays mapped while the workers exit: otherwise a thread
  // destructor libtensorflow registered runs after the last worker's unload (a SIGSEGV at exit,
  // patched or not).
  createRequire(import.meta.url)(file);
  const start = new SharedArrayBuffer(4);
  // A corrupted set can also loop forever inside an insert: that is a failure too.
  setTimeout(() => {
    console.log(JSON.stringify({ ok: false, binding: file, error: `a thread was still inside the binding ${HANG_MS} ms after the calls should have ended` }));
    // process.exit would join the spinning threads and never return.
    process.kill(process.pid, 'SIGKILL');
  }, WINDOW_MS + HANG_MS).unref();
  const calls = await Promise.all(Array.from({ length: THREADS }, (_, thread) => new Promise((resolve, reject) => {
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: { file, thread, start } });
    let calls = 0;
    w.once('message', (n) => (calls = n));
    w.once('error', reject);
    w.once('exit', () => resolve(calls));
  })));
  console.log(JSON.stringify({ ok: true, binding: file, threads: THREADS, calls: calls.reduce((a, b) => a + b, 0), windowMs: WINDOW_MS }));
} else {
  const b = createRequire(import.meta.url)(workerData.file);
  const flag = new Int32Array(workerData.start);
  // Start together: the last thread to load the addon releases the others.
  if (Atomics.add(flag, 0, 1) + 1 === THREADS) Atomics.notify(flag, 0);
  else while (Atomics.load(flag, 0) < THREADS) Atomics.wait(flag, 0, Atomics.load(flag, 0), 50);
  let calls = 0;
  const until = performance.now() + WINDOW_MS;
  while (performance.now() < until) {
    const attrs = Array.from({ length: NAMES_PER_CALL }, (_, i) => ({ name: Math.random().toString(36).slice(2), type: i < NAMES_PER_CALL - 1 ? b.TF_ATTR_INT : UNKNOWN_TYPE, value: 0 }));
    try {
      b.executeOp('NoOp', attrs, [], 0);
    } catch {
      // expected: the unknown attribute type
    }
    calls++;
  }
  parentPort.postMessage(calls);
}
