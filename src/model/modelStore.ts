/**
 * The directory of the models the service makes itself: one folder per model key, one
 * sub-folder per version, and a `CURRENT` file naming the live version.
 *
 *   <root>/entity-pump%2F7/CURRENT            "3f9a…"
 *   <root>/entity-pump%2F7/3f9a…/manifest.json  a checkpoint (saveCheckpoint)
 *   <root>/norm-fan-2/CURRENT                   per-entity normalization of a shared model
 *   <root>/norm-fan-2/77c1…/normalization.json
 *
 * Why a pointer file: a version folder is complete before `CURRENT` names it, and `CURRENT` is
 * replaced by a rename, which is atomic on POSIX file systems. A crash at any moment leaves
 * either the old or the new version live, never half a checkpoint; a restarted service reads
 * `CURRENT` and continues with the model it last swapped in.
 *
 * Example:
 *   const store = createModelStore('models/trained');
 *   const dir = store.staging('entity:pump-7');      // train into dir …
 *   const live = await store.commit('entity:pump-7', dir, version);
 *   store.current('entity:pump-7');                  // { version, dir: live }
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ModelError } from '../errors.ts';

export interface ModelStore {
  readonly root: string;
  /** Folder of a model key (`entity:<id>`, `group:<name>`, `norm:<id>`). */
  dirOf(key: string): string;
  /** The live version of a key, or undefined when it has none yet. */
  current(key: string): { version: string; dir: string } | undefined;
  /** A fresh folder to write a new version into, inside the key's folder. */
  staging(key: string): string;
  /** Make a written staging folder the key's live version; returns the version's folder. */
  commit(key: string, stagingDir: string, version: string): Promise<string>;
}

/** A model key as a folder name: the kind, a dash, and the name percent-encoded (ids may hold `/`). */
export function keyFolder(key: string): string {
  const at = key.indexOf(':');
  if (at <= 0) throw new ModelError('MODEL_INVALID', `model key ${JSON.stringify(key)} is not <kind>:<name>`, { key });
  return `${key.slice(0, at)}-${encodeURIComponent(key.slice(at + 1)).replace(/\./g, '%2E')}`;
}

const VERSION = /^[A-Za-z0-9_-]{1,128}$/;

export function createModelStore(root: string): ModelStore {
  const abs = resolve(root);
  let stagingSeq = 0;
  const dirOf = (key: string) => join(abs, keyFolder(key));
  return {
    root: abs,
    dirOf,
    current(key) {
      const pointer = join(dirOf(key), 'CURRENT');
      if (!existsSync(pointer)) return undefined;
      const version = readFileSync(pointer, 'utf8').trim();
      const dir = join(dirOf(key), version);
      if (!VERSION.test(version) || !existsSync(dir)) {
        throw new ModelError('MODEL_INVALID', `${pointer} names version ${JSON.stringify(version)}, which is not a folder beside it; remove CURRENT to start this model over`, { path: pointer });
      }
      return { version, dir };
    },
    staging(key) {
      return join(dirOf(key), `.staging-${process.pid}-${Date.now()}-${stagingSeq++}`);
    },
    async commit(key, stagingDir, version) {
      if (!VERSION.test(version)) throw new ModelError('MODEL_INVALID', `version ${JSON.stringify(version)} is not a folder name`, { key, version });
      const keyDir = dirOf(key);
      const dir = join(keyDir, version);
      await mkdir(keyDir, { recursive: true });
      // The same content trained twice has the same version: keep the folder that is there.
      if (existsSync(dir)) await rm(stagingDir, { recursive: true, force: true });
      else await rename(stagingDir, dir);
      const tmp = join(keyDir, `.CURRENT-${process.pid}-${stagingSeq++}`);
      await writeFile(tmp, `${version}\n`);
      await rename(tmp, join(keyDir, 'CURRENT'));
      return dir;
    },
  };
}
