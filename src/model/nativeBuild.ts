/**
 * What `npm run native:setup` recorded about the installed native package, read without loading
 * it (no TF.js import: the main thread asks this before any worker starts a backend).
 *
 * tfjs-node 4.22's binding inserts op-attribute names into one process-wide set without a lock, so
 * worker threads that run their first ops at once can crash the process. native-setup builds the
 * binding with `attr-name-set-mutex.patch` and lists it in `native-build.json`; a prebuilt addon
 * from npm has no such file (docs/native-backend.md, "Worker threads").
 *
 * Example: if (nativeBindingThreadSafe() === false) log.warn('…');
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The packages that provide the 'tensorflow' backend, in the order they are tried. */
export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/** The patch that makes the binding safe with several worker threads. */
export const THREAD_SAFETY_PATCH = 'attr-name-set-mutex.patch';

/**
 * Whether the native package that would be loaded carries THREAD_SAFETY_PATCH: true or false, or
 * undefined when no native package is installed. `require` resolves the packages (tests point it
 * elsewhere).
 */
export function nativeBindingThreadSafe(require: NodeJS.Require = createRequire(import.meta.url)): boolean | undefined {
  for (const pkg of NATIVE_PACKAGES) {
    let dir: string;
    try {
      dir = path.dirname(require.resolve(`${pkg}/package.json`));
    } catch {
      continue;
    }
    try {
      const build = JSON.parse(readFileSync(path.join(dir, 'native-build.json'), 'utf8')) as { patches?: unknown };
      return Array.isArray(build.patches) && build.patches.includes(THREAD_SAFETY_PATCH);
    } catch {
      return false; // no record: a prebuilt addon, or an unreadable one
    }
  }
  return undefined;
}
