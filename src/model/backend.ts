/**
 * Choose the TF.js backend once at start-up, fastest available first:
 *
 *   tensorflow  libtensorflow through @tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node
 *               (optional dependencies: their install downloads binaries, so they are often absent)
 *   webgpu      @tensorflow/tfjs-backend-webgpu, when installed and an adapter exists
 *   wasm        @tensorflow/tfjs-backend-wasm (always installed; SIMD, one thread in Node)
 *   cpu         plain JS, the last resort (~50x slower to train than wasm on our net)
 *
 * 'auto' logs the chosen backend and why each faster one was skipped. An explicit choice that
 * cannot be met is a `ModelError('BACKEND_UNAVAILABLE')` rather than a silent fallback.
 *
 * Example: const { name, reasons } = await initBackend('auto', rootLogger.namespace('model'));
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { ModelError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { NATIVE_PACKAGES } from './nativeBuild.ts';
import { nativeThreadsPerOp } from './nativeThreads.ts';

export type BackendPreference = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type BackendName = Exclude<BackendPreference, 'auto'>;

export interface BackendChoice {
  name: BackendName;
  /** Why each backend tried before the chosen one was skipped. */
  reasons: Partial<Record<BackendName, string>>;
}

const ORDER: BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];
const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0];

/** A specifier held in a variable: TypeScript must not resolve optional packages at compile time. */
async function importOptional(specifier: string): Promise<unknown> {
  return import(specifier);
}

/** The directory holding the .wasm binaries, with the trailing '/' setWasmPaths needs in Node. */
export function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
}

/** Try one backend; resolve to null when selected, or to the reason it is unavailable. */
async function tryBackend(name: BackendName): Promise<string | null> {
  if (name === 'tensorflow') {
    // libtensorflow prints plain-text INFO lines to stderr, which would break one-JSON-object-per-line logs.
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
    // The main thread is the one thread issuing ops here (`diffwatch train`, the NAB harness); a
    // worker's environment is a copy libtensorflow does not read (the scorer sets it for them).
    if (isMainThread) nativeThreadsPerOp(1);
    const failures: string[] = [];
    for (const pkg of NATIVE_PACKAGES) {
      try {
        await importOptional(pkg); // registers the 'tensorflow' backend on import
        if (await tf.setBackend('tensorflow')) return null;
        failures.push(`${pkg}: loaded but the backend did not initialise`);
      } catch (err) {
        failures.push(`${pkg}: ${message(err)}`);
      }
    }
    return `not installed or not loadable (${failures.join('; ')})`;
  }
  if (name === 'webgpu') {
    try {
      await importOptional('@tensorflow/tfjs-backend-webgpu');
    } catch (err) {
      return `@tensorflow/tfjs-backend-webgpu not installed (${message(err)})`;
    }
    try {
      return (await tf.setBackend('webgpu')) ? null : 'no WebGPU adapter found';
    } catch (err) {
      return `WebGPU failed to initialise (${message(err)})`;
    }
  }
  try {
    // setWasmPaths must precede the wasm backend's first initialisation, and only that.
    if (name === 'wasm' && !tf.engine().registryFactory.wasm) return 'wasm backend not registered';
    if (name === 'wasm' && !tf.engine().registry.wasm) setWasmPaths(wasmBinaryDir());
    return (await tf.setBackend(name)) ? null : `${name} backend failed to initialise`;
  } catch (err) {
    return `${name} backend failed to initialise (${message(err)})`;
  }
}

/**
 * Select and initialise the backend. With 'auto', the first that works in ORDER;
 * otherwise exactly the one asked for.
 */
export async function initBackend(pref: BackendPreference, log: Logger): Promise<BackendChoice> {
  const candidates = pref === 'auto' ? ORDER : [pref];
  if (!ORDER.includes(candidates[0])) {
    throw new ModelError('BACKEND_UNAVAILABLE', `unknown backend ${JSON.stringify(pref)}: use one of auto, ${ORDER.join(', ')}`, { field: 'backend' });
  }
  // tfjs prints plain-text banners to the console (e.g. "install our node backend"), which would
  // break one-JSON-object-per-line logging; the log line below says which backend and why instead.
  tf.enableProdMode();
  const reasons: BackendChoice['reasons'] = {};
  for (const name of candidates) {
    const reason = await tryBackend(name);
    if (reason === null) {
      log.info('model backend selected', { backend: name, requested: pref, skipped: reasons });
      return { name, reasons };
    }
    reasons[name] = reason;
    log.debug('model backend skipped', { backend: name, reason });
  }
  const why = Object.entries(reasons).map(([n, r]) => `${n}: ${r}`).join('; ');
  throw new ModelError(
    'BACKEND_UNAVAILABLE',
    pref === 'auto' ? `no TF.js backend could be initialised (${why})` : `backend '${pref}' was requested but is unavailable (${why}); install it or choose 'auto'`,
    { field: 'backend', requested: pref },
  );
}
