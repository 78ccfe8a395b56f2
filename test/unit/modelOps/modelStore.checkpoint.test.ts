/**
 * A trained checkpoint saved and loaded through the model store under entity ids whose
 * spelled-out folder name would pass the 255-byte file-name limit (ENAMETOOLONG before names
 * were bounded).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint, type TrainedModel } from '../../../src/model/checkpoint.ts';
import { createModelStore, KEY_FOLDER_MAX_BYTES, type ModelStore } from '../../../src/modelOps/modelStore.ts';
import { train } from '../../../src/model/trainer.ts';
import { useBackend } from '../model/helpers.ts';

const L = 8;
const N = 120;
const values = Float64Array.from({ length: N }, (_, i) => 10 + Math.sin(i / 2));
const timestamps = Float64Array.from({ length: N }, (_, i) => 1_700_000_000_000 + i * 60_000);

describe('model store with a real checkpoint', () => {
  let root: string;
  let store: ModelStore;
  let model: TrainedModel;

  beforeAll(async () => {
    await useBackend('wasm');
    root = await mkdtemp(join(tmpdir(), 'diffwatch-store-ckpt-'));
    store = createModelStore(root);
    model = await train({ values, channels: ['load'], timestamps }, { windowLength: L, width: 4, depth: 1, embedDim: 4, T: 10, t0: 3, epochs: 1, stride: 4 });
  }, 60_000);
  afterAll(async () => {
    model?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  for (const [what, id] of [
    ['256 four-byte characters', '\u{1F525}'.repeat(256)],
    ['256 %-heavy ASCII characters', '%./'.repeat(85) + '%'],
  ] as const) {
    it(`saves, commits and loads a model of an entity id of ${what}`, async () => {
      const key = `entity:${id}`;
      const staging = store.staging(key);
      await mkdir(staging, { recursive: true });
      const version = await saveCheckpoint(staging, model);
      const live = await store.commit(key, staging, version);
      expect(Buffer.byteLength(basename(store.dirOf(key)))).toBeLessThanOrEqual(KEY_FOLDER_MAX_BYTES);

      // A restarted service finds the live version from the key alone.
      const again = createModelStore(root).current(key);
      expect(again).toEqual({ version, dir: live });
      const loaded = await loadCheckpoint(again!.dir, { channels: ['load'], windowLength: L });
      expect(loaded.manifest).toEqual(model.manifest);
      loaded.dispose();
    });
  }
});
