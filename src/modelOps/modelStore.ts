/**
 * The directory of the models the service makes itself: one folder per model key, one
 * sub-folder per version, and a `CURRENT` file naming the live version.
 *
 *   <root>/entity-pump%2F7/CURRENT            "3f9a…"
 *   <root>/entity-pump%2F7/3f9a…/manifest.json  a checkpoint (saveCheckpoint)
 *   <root>/norm-fan-2/CURRENT                   per-entity normalization of a shared model
 *   <root>/norm-fan-2/77c1…/normalization.json
 *   <root>/entity-%E6%B3%B5…%E6%B3%B5+9c1e…(64 hex)/CURRENT   an id too long to spell out (keyFolder)
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
import { createHash } from 'node:crypto';
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
  /**
   * The live version of a key as the whole deployment knows it: here `current`; a store shared
   * through Kafka (kafkaModelStore.ts) first catches up with its topic and fetches the version
   * into this folder.
   */
  live(key: string): Promise<{ version: string; dir: string } | undefined>;
  /** The next `live` catches up with the shared store again (after a partition rebalance). */
  refresh(): void;
  close(): Promise<void>;
}

/** Bytes of a key folder's name: below the 255-byte NAME_MAX of ext4, XFS and btrfs, with room to spare. */
export const KEY_FOLDER_MAX_BYTES = 200;
/** Lowercase hex digits of the SHA-256 that ends a folder name too long to spell out. */
const HASH_HEX = 64;
/** Kinds are the service's own words (`entity`, `group`, `norm`), so a folder's prefix stays short. */
const KIND = /^[a-z]{1,16}$/;

/** The kind, a dash, and the name percent-encoded (ids may hold `/`; `.` too so `..` is never a name). */
function spelledOut(kind: string, name: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(name);
  } catch {
    // Only an unpaired surrogate throws; ingest refuses those (src/textRules.ts), so this is a bug upstream.
    throw new ModelError('MODEL_INVALID', `model name ${JSON.stringify(name)} is not well-formed Unicode`, { key: `${kind}:${name}` });
  }
  return `${kind}-${encoded.replace(/\./g, '%2E')}`;
}

function splitKey(key: string): [kind: string, name: string] {
  const at = key.indexOf(':');
  const kind = key.slice(0, Math.max(at, 0));
  if (!KIND.test(kind)) throw new ModelError('MODEL_INVALID', `model key ${JSON.stringify(key)} is not <kind>:<name> with a kind of lowercase letters`, { key });
  return [kind, key.slice(at + 1)];
}

/**
 * A model key as a folder name of at most `KEY_FOLDER_MAX_BYTES` ASCII bytes, different for
 * every key.
 *
 * - When it fits, the name spelled out: `entity:pump/7` → `entity-pump%2F7` (the names of
 *   existing stores).
 * - Otherwise the start of that, cut after a whole character, then `+` and the SHA-256 (hex) of
 *   the UTF-8 key: `entity:<256 × 泵>` → `entity-%E6%B3%B5…%E6%B3%B5+<64 hex>`. Reproduce it with
 *   `printf '%s' 'entity:<id>' | sha256sum`.
 *
 * Why this is one-to-one: encodeURIComponent never writes `+` (it becomes `%2B`), so a spelled-out
 * name and a hashed one never meet; spelled-out names are as distinct as the ids; hashed ones
 * are distinct unless SHA-256 collides. Names are case-sensitive, like the ids: on a
 * case-insensitive file system (macOS, Windows defaults) `a` and `A` would share a folder.
 *
 * Why not only the hash: an operator looking at the store can still tell which entity a folder is.
 */
export function keyFolder(key: string): string {
  const [kind, name] = splitKey(key);
  const full = spelledOut(kind, name);
  if (full.length <= KEY_FOLDER_MAX_BYTES) return full;
  // Whole characters only: half of `%F0%9F%94%A5` would read as no character at all.
  const budget = KEY_FOLDER_MAX_BYTES - 1 - HASH_HEX;
  let prefix = `${kind}-`;
  for (const ch of name) {
    const enc = spelledOut(kind, ch).slice(kind.length + 1);
    if (prefix.length + enc.length > budget) break;
    prefix += enc;
  }
  return `${prefix}+${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/**
 * The folder a key had before names were bounded, when it differs from `keyFolder`: the name
 * spelled out however long. Such a folder exists only if its name fitted the file system
 * (NAME_MAX, 255 bytes), so a store written then still loads.
 */
export function legacyKeyFolder(key: string): string | undefined {
  const [kind, name] = splitKey(key);
  const full = spelledOut(kind, name);
  return full.length > KEY_FOLDER_MAX_BYTES && full.length <= 255 ? full : undefined;
}

const VERSION = /^[A-Za-z0-9_-]{1,128}$/;

export function createModelStore(root: string): ModelStore {
  const abs = resolve(root);
  let stagingSeq = 0;
  const dirOf = (key: string) => {
    const legacy = legacyKeyFolder(key);
    // Only ids of 201–255 encoded bytes pay for this lookup; their older folder stays in use.
    if (legacy !== undefined && existsSync(join(abs, legacy))) return join(abs, legacy);
    return join(abs, keyFolder(key));
  };
  const current = (key: string): { version: string; dir: string } | undefined => {
    const pointer = join(dirOf(key), 'CURRENT');
    if (!existsSync(pointer)) return undefined;
    const version = readFileSync(pointer, 'utf8').trim();
    const dir = join(dirOf(key), version);
    if (!VERSION.test(version) || !existsSync(dir)) {
      throw new ModelError('MODEL_INVALID', `${pointer} names version ${JSON.stringify(version)}, which is not a folder beside it; remove CURRENT to start this model over`, { path: pointer });
    }
    return { version, dir };
  };
  return {
    root: abs,
    dirOf,
    current,
    async live(key) {
      return current(key);
    },
    refresh() {},
    async close() {},
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
