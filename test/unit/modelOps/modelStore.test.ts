/**
 * The model store on a real temporary directory: the CURRENT pointer, the swap, re-commits of
 * an existing version, and folder names that cannot leave the root, overflow a file name or
 * meet another key's, whatever the entity id.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/errors.ts';
import { createHash } from 'node:crypto';
import { createModelStore, KEY_FOLDER_MAX_BYTES, keyFolder, legacyKeyFolder, type ModelStore } from '../../../src/modelOps/modelStore.ts';

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

  it('refuses a key without a kind of lowercase letters', () => {
    for (const bad of ['pump-7', ':pump-7', '', 'Entity:x', 'a-b:x', `${'k'.repeat(17)}:x`]) expect(() => keyFolder(bad)).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
  });
});

/** A file name the kernel accepts: at most 255 bytes, no `/`, no NUL, not `.` or `..`. */
function expectValidFileName(name: string): void {
  expect(Buffer.byteLength(name, 'utf8')).toBeLessThanOrEqual(KEY_FOLDER_MAX_BYTES);
  expect(name).toMatch(/^[\x21-\x7e]+$/);
  expect(name).not.toMatch(/[/\\]/);
  expect(name).not.toMatch(/^\.+$/);
}

describe('keyFolder of long and non-ASCII ids', () => {
  const fourByte = '\u{1F525}'.repeat(256); // 256 code points of 4 UTF-8 bytes: 3,072 encoded bytes
  const percentHeavy = '%.'.repeat(128); // 256 ASCII characters that all need escaping: 768 encoded bytes
  const cjk = '泵'.repeat(256);

  it('keeps names of existing stores: an id that fits is spelled out as before', () => {
    const id = 'p'.repeat(KEY_FOLDER_MAX_BYTES - 'entity-'.length);
    expect(keyFolder(`entity:${id}`)).toBe(`entity-${id}`);
    expect(keyFolder('entity:ü/ñ')).toBe('entity-%C3%BC%2F%C3%B1');
    expect(keyFolder('entity:a.b')).toBe('entity-a%2Eb');
    expect(keyFolder('entity:a+b')).toBe('entity-a%2Bb');
    expect(legacyKeyFolder(`entity:${id}`)).toBeUndefined();
  });

  it('bounds the name of a 256-character id of 4-byte characters, with a readable prefix and its SHA-256', () => {
    const name = keyFolder(`entity:${fourByte}`);
    expectValidFileName(name);
    expect(name.startsWith('entity-%F0%9F%94%A5%F0%9F%94%A5')).toBe(true);
    const hash = createHash('sha256').update(`entity:${fourByte}`, 'utf8').digest('hex');
    expect(name.endsWith(`+${hash}`)).toBe(true);
    // The prefix ends on a whole escape, so it decodes to the start of the id.
    const prefix = name.slice('entity-'.length, name.lastIndexOf('+'));
    expect(fourByte.startsWith(decodeURIComponent(prefix))).toBe(true);
    expect(legacyKeyFolder(`entity:${fourByte}`)).toBeUndefined(); // it never fitted, so there is no older folder
  });

  it('bounds the name of a 256-character id of %-heavy ASCII, whose escapes end on a whole one', () => {
    for (const id of [percentHeavy, '%'.repeat(256), `x${'%'.repeat(255)}`, `xx${'%'.repeat(254)}`, cjk]) {
      const name = keyFolder(`group:${id}`);
      expectValidFileName(name);
      const prefix = name.slice('group-'.length, name.lastIndexOf('+'));
      expect(prefix).toMatch(/^(?:[^%]|%[0-9A-F]{2})*$/);
      expect(id.startsWith(decodeURIComponent(prefix))).toBe(true);
    }
  });

  it('gives ids that differ only after the cut different folders', () => {
    const base = 'sensor/'.repeat(36); // 252 characters, spelled out far past the cut
    const ids = [base, `${base}a`, `${base}b`, `${base}A`, `${base}ab`, `${fourByte.slice(0, -2)}\u{1F526}`, fourByte, percentHeavy, `${percentHeavy.slice(0, -1)}!`];
    const names = ids.map((id) => keyFolder(`entity:${id}`));
    expect(new Set(names).size).toBe(ids.length);
    // Same prefix, different hash: the prefix alone would not tell them apart.
    expect(names[1].slice(0, -64)).toBe(names[2].slice(0, -64));
  });

  it('never gives a long id the folder of a short one, nor of another kind', () => {
    const long = 'x'.repeat(300);
    const hashed = keyFolder(`entity:${long}`);
    expect(hashed).toContain('+');
    // A short id spelled out can hold neither `+` nor a literal hash-looking tail after one.
    const short = keyFolder(`entity:${hashed.slice('entity-'.length)}`);
    expect(short).not.toBe(hashed);
    expect(keyFolder(`norm:${long}`)).not.toBe(hashed.replace(/^entity/, 'norm'));
  });

  it('a different but similar id (an added invisible or combining character) gets another folder', () => {
    // Ingest refuses U+200B; a combining mark is accepted and must not merge two ids.
    const a = 'é'.repeat(100);
    const b = 'e\u0301'.repeat(100);
    expect(keyFolder(`entity:${a}`)).not.toBe(keyFolder(`entity:${b}`));
    expect(keyFolder(`entity:${a}\u200b`)).not.toBe(keyFolder(`entity:${a}`));
  });

  it('refuses an id with an unpaired surrogate with MODEL_INVALID rather than a URIError', () => {
    expect(() => keyFolder('entity:a\ud800')).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
  });

  it('commits and reads back such ids on the real file system', async () => {
    for (const id of [fourByte, percentHeavy, cjk, 'z'.repeat(10_000)]) {
      const key = `entity:${id}`;
      const live = await store.commit(key, await staged(key, id.slice(0, 8)), 'v1');
      expect(store.current(key)).toEqual({ version: 'v1', dir: live });
      expect(readFileSync(join(live, 'manifest.json'), 'utf8')).toBe(id.slice(0, 8));
      expect(dirname(store.dirOf(key))).toBe(resolve(root));
    }
    expect(readdirSync(root)).toHaveLength(4);
  });

  it('a store written before names were bounded still loads an id of 201–255 encoded bytes from its old folder', async () => {
    const id = 'q'.repeat(240);
    const key = `entity:${id}`;
    const old = join(root, `entity-${id}`);
    expect(legacyKeyFolder(key)).toBe(`entity-${id}`);
    expect(keyFolder(key)).not.toBe(`entity-${id}`);
    // The layout an earlier release wrote: the spelled-out name, however long.
    await mkdir(join(old, 'v1'), { recursive: true });
    await writeFile(join(old, 'CURRENT'), 'v1\n');
    expect(store.current(key)).toEqual({ version: 'v1', dir: join(old, 'v1') });
    const live = await store.commit(key, await staged(key, 'next'), 'v2');
    expect(live).toBe(join(old, 'v2'));
    expect(readdirSync(root)).toEqual([`entity-${id}`]);
  });

  it('a fresh store puts such an id under its bounded name', async () => {
    const key = `entity:${'q'.repeat(240)}`;
    await store.commit(key, await staged(key, 'first'), 'v1');
    expect(readdirSync(root)).toEqual([keyFolder(key)]);
  });
});
