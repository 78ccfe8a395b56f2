/**
 * The model store on a real temporary directory: the CURRENT pointer, the swap, re-commits of
 * an existing version, and folder names that cannot leave the root whatever the entity id.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/errors.ts';
import { createModelStore, keyFolder, type ModelStore } from '../../../src/model/modelStore.ts';

let root: string;
let store: ModelStore;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'diffwatch-store-'));
  store = createModelStore(root);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Write a staging folder holding one file that says which training run made it. */
async function staged(key: string, marker: string): Promise<string> {
  const dir = store.staging(key);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'manifest.json'), marker);
  return dir;
}

describe('createModelStore', () => {
  it('commit moves the staging folder to the version and makes CURRENT name it', async () => {
    const dir = await staged('entity:pump-7', 'first');
    const live = await store.commit('entity:pump-7', dir, 'v1');
    expect(live).toBe(join(store.dirOf('entity:pump-7'), 'v1'));
    expect(existsSync(dir)).toBe(false);
    expect(readFileSync(join(live, 'manifest.json'), 'utf8')).toBe('first');
    expect(readFileSync(join(store.dirOf('entity:pump-7'), 'CURRENT'), 'utf8').trim()).toBe('v1');
    expect(store.current('entity:pump-7')).toEqual({ version: 'v1', dir: live });
  });

  it('a second commit swaps CURRENT and keeps the earlier version on disk', async () => {
    const first = await store.commit('group:fans', await staged('group:fans', 'first'), 'v1');
    const second = await store.commit('group:fans', await staged('group:fans', 'second'), 'v2');
    expect(store.current('group:fans')).toEqual({ version: 'v2', dir: second });
    expect(readFileSync(join(second, 'manifest.json'), 'utf8')).toBe('second');
    expect(existsSync(first)).toBe(true);
    // No temporary pointer or staging folder is left behind.
    expect(readdirSync(store.dirOf('group:fans')).sort()).toEqual(['CURRENT', 'v1', 'v2']);
  });

  it('committing a version that exists keeps its folder and removes the staging one', async () => {
    const live = await store.commit('entity:a', await staged('entity:a', 'original'), 'same');
    await store.commit('entity:a', await staged('entity:a', 'other'), 'v2');
    const again = await staged('entity:a', 'retrained');
    expect(await store.commit('entity:a', again, 'same')).toBe(live);
    expect(existsSync(again)).toBe(false);
    expect(readFileSync(join(live, 'manifest.json'), 'utf8')).toBe('original');
    expect(store.current('entity:a')?.version).toBe('same');
    expect(readdirSync(store.dirOf('entity:a')).sort()).toEqual(['CURRENT', 'same', 'v2']);
  });

  it('a key with no committed version has no current one', async () => {
    expect(store.current('entity:never')).toBeUndefined();
    // A staging folder alone is not a version.
    await staged('entity:never', 'half');
    expect(store.current('entity:never')).toBeUndefined();
  });

  it('a CURRENT naming a missing folder throws MODEL_INVALID saying how to start over', async () => {
    const keyDir = store.dirOf('entity:b');
    await mkdir(keyDir, { recursive: true });
    await writeFile(join(keyDir, 'CURRENT'), 'gone\n');
    let err: unknown;
    try {
      store.current('entity:b');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ code: 'MODEL_INVALID', coords: { path: join(keyDir, 'CURRENT') } });
    expect((err as Error).message).toMatch(/"gone"/);
    expect((err as Error).message).toMatch(/remove CURRENT/);
  });

  it('a CURRENT whose content is not a version name is refused, even if it points at a real folder', async () => {
    const keyDir = store.dirOf('entity:c');
    await mkdir(join(keyDir, 'v1'), { recursive: true });
    await writeFile(join(keyDir, 'CURRENT'), '../entity-c/v1\n');
    expect(() => store.current('entity:c')).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
  });

  it('refuses a version that is not a plain folder name, and leaves CURRENT alone', async () => {
    const live = await store.commit('entity:d', await staged('entity:d', 'ok'), 'v1');
    for (const bad of ['', '..', '../x', 'a/b', 'a b', 'v.1', 'x'.repeat(129)]) {
      await expect(store.commit('entity:d', await staged('entity:d', 'bad'), bad)).rejects.toMatchObject({ code: 'MODEL_INVALID', coords: { key: 'entity:d', version: bad } });
    }
    expect(store.current('entity:d')).toEqual({ version: 'v1', dir: live });
    expect(existsSync(join(root, 'x'))).toBe(false);
  });

  it('staging folders are fresh each time and inside the key folder', () => {
    const a = store.staging('entity:e');
    const b = store.staging('entity:e');
    expect(a).not.toBe(b);
    expect(dirname(a)).toBe(store.dirOf('entity:e'));
  });
});

describe('keyFolder', () => {
  it('keeps the kind and percent-encodes the name', () => {
    expect(keyFolder('entity:pump-7')).toBe('entity-pump-7');
    expect(keyFolder('entity:pump/7')).toBe('entity-pump%2F7');
    expect(keyFolder('norm:fan 2')).toBe('norm-fan%202');
    expect(keyFolder('group:fans')).toBe('group-fans');
  });

  it('maps different ids to different folders', () => {
    const ids = ['a/b', 'a%2Fb', 'a.b', 'a%2Eb', 'a b', 'a_b', '..', '.', '%2E%2E'];
    const folders = ids.map((id) => keyFolder(`entity:${id}`));
    expect(new Set(folders).size).toBe(ids.length);
  });

  it('no entity id yields a folder outside the root or a name the file system treats specially', () => {
    const base = resolve(root);
    for (const id of ['..', '../..', '../../etc', '/abs/path', 'a/../../b', '.', ' ', 'x\\..\\y', 'ü/ñ', 'a:b']) {
      const name = keyFolder(`entity:${id}`);
      expect(name).not.toMatch(/[/\\]/);
      expect(name).not.toMatch(/^\.+$/);
      expect(name).not.toContain('..');
      const dir = store.dirOf(`entity:${id}`);
      expect(dirname(dir)).toBe(base);
      expect(relative(base, dir).split(sep)).toHaveLength(1);
    }
  });

  it('refuses a key without a kind', () => {
    for (const bad of ['pump-7', ':pump-7', '']) expect(() => keyFolder(bad)).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
  });
});
