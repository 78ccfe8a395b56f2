import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/errors.ts';
import { canonicalJson, FILES, loadCheckpoint, makeTrainedModel, modelVersion, saveCheckpoint, type TrainedModel } from '../../../src/model/checkpoint.ts';
import { Denoiser } from '../../../src/model/denoiser.ts';
import { train } from '../../../src/model/trainer.ts';
import { scoreWindows } from '../../../src/model/windowScorer.ts';
import { gatherWindows, windowStarts, windowTimestamps } from '../../../src/model/windows.ts';
import { useBackend } from './helpers.ts';

const L = 16;
const N = 400;
const values = Float64Array.from({ length: N }, (_, i) => 20 + 5 * Math.sin(i / 3) + (i % 7) * 0.1);
const timestamps = Float64Array.from({ length: N }, (_, i) => 1_700_000_000_000 + i * 60_000);

async function errorOf(p: Promise<unknown>): Promise<ModelError> {
  try {
    await p;
  } catch (e) {
    return e as ModelError;
  }
  throw new Error('expected a rejection');
}

describe('checkpoints', () => {
  let model: TrainedModel;
  let root: string;
  let dir: string;

  beforeAll(async () => {
    await useBackend('wasm');
    root = await mkdtemp(join(tmpdir(), 'diffwatch-ckpt-'));
    dir = join(root, 'm');
    model = await train({ values, channels: ['load'], timestamps }, { windowLength: L, width: 8, depth: 2, embedDim: 8, T: 50, t0: 15, epochs: 1, stride: 2 });
    await saveCheckpoint(dir, model);
  });
  afterAll(async () => {
    model.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('round-trips: the same scores, the same version, byte-identical files on a second save', async () => {
    const loaded = await loadCheckpoint(dir, { channels: ['load'], windowLength: L });
    const starts = windowStarts(N, L, 5);
    const w = gatherWindows(values, 1, L, starts);
    const B = w.length / L;
    const at = { timestamps: windowTimestamps(timestamps, L, starts) };
    expect(scoreWindows(loaded, w, B, at).pointScores).toEqual(scoreWindows(model, w, B, at).pointScores);
    expect(loaded.manifest).toEqual(model.manifest);
    const again = join(root, 'again');
    expect(await saveCheckpoint(again, loaded)).toBe(model.manifest.version);
    for (const f of Object.values(FILES)) expect(await readFile(join(again, f))).toEqual(await readFile(join(dir, f)));
    loaded.dispose();
  });

  it('writes a TF.js weights manifest with names, shapes, dtypes and byte ranges that tile weights.bin', async () => {
    const wm = JSON.parse(await readFile(join(dir, FILES.weightsManifest), 'utf8'));
    const specs = wm.weightsManifest[0].weights as { name: string; shape: number[]; dtype: string; byteOffset: number; byteLength: number }[];
    expect(wm.weightsManifest[0].paths).toEqual([FILES.weights]);
    expect(specs.map((s) => s.name)).toEqual(Object.keys(model.denoiser.getWeights()).sort());
    let offset = 0;
    for (const s of specs) {
      expect(s.dtype).toBe('float32');
      expect(s.byteOffset).toBe(offset);
      expect(s.shape).toEqual(model.denoiser.getWeights()[s.name].shape);
      offset += s.byteLength;
    }
    expect((await readFile(join(dir, FILES.weights))).byteLength).toBe(offset);
    expect(offset).toBe(model.denoiser.countParams() * 4);
  });

  it('version is a 16-hex content hash of the weights and the manifest', async () => {
    const { version } = model.manifest;
    expect(version).toMatch(/^[0-9a-f]{16}$/);
    const m = JSON.parse(await readFile(join(dir, FILES.manifest), 'utf8'));
    expect(m.version).toBe(version);
    expect(await modelVersion({ ...model, manifest: { ...model.manifest, t0: 14 } })).not.toBe(version);
    // Insertion order of the keys does not matter.
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: 0 }] } })).toBe('{"a":{"c":[3,{"e":0,"f":1}],"d":2},"b":1}');
    const other = new Denoiser({ ...model.denoiser.getConfig(), seed: 99 });
    expect(await modelVersion({ manifest: model.manifest, denoiser: other })).not.toBe(version);
    other.dispose();
  });

  it('a missing directory or file is MODEL_NOT_FOUND', async () => {
    expect((await errorOf(loadCheckpoint(join(root, 'nope')))).code).toBe('MODEL_NOT_FOUND');
    const partial = join(root, 'partial');
    await saveCheckpoint(partial, model);
    await rm(join(partial, FILES.weights));
    expect((await errorOf(loadCheckpoint(partial))).code).toBe('MODEL_NOT_FOUND');
  });

  it('corrupt JSON, a changed weight byte or truncated weights are MODEL_INVALID', async () => {
    const copy = async (name: string) => {
      const d = join(root, name);
      await saveCheckpoint(d, model);
      return d;
    };
    const badJson = await copy('bad-json');
    await writeFile(join(badJson, FILES.manifest), '{"format": "diffwatch-model",');
    expect((await errorOf(loadCheckpoint(badJson))).code).toBe('MODEL_INVALID');

    const flipped = await copy('flipped');
    const bytes = await readFile(join(flipped, FILES.weights));
    bytes[10] ^= 0xff;
    await writeFile(join(flipped, FILES.weights), bytes);
    const e = await errorOf(loadCheckpoint(flipped));
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toContain('content hash');

    const truncated = await copy('truncated');
    await writeFile(join(truncated, FILES.weights), bytes.subarray(0, 100));
    expect((await errorOf(loadCheckpoint(truncated))).code).toBe('MODEL_INVALID');

    const badSpec = await copy('bad-spec');
    const wm = JSON.parse(await readFile(join(badSpec, FILES.weightsManifest), 'utf8'));
    wm.weightsManifest[0].weights[1].byteOffset += 4;
    await writeFile(join(badSpec, FILES.weightsManifest), JSON.stringify(wm));
    expect((await errorOf(loadCheckpoint(badSpec))).code).toBe('MODEL_INVALID');
  });

  it('a model whose net reads fewer channels than it scores round-trips; a manifest whose reads disagree with the net is MODEL_INVALID', async () => {
    // An idle flag, 0 but for a few pulses unrelated to the load: the net does not read it.
    const C = 2;
    const rows = Float64Array.from({ length: N * C }, (_, k) => (k % C === 0 ? values[k / C] : Math.floor(k / C) % 97 < 3 ? 1 : 0));
    const m = await train({ values: rows, channels: ['load', 'flag'], timestamps }, { windowLength: L, width: 8, depth: 2, embedDim: 8, T: 50, epochs: 1, stride: 2 });
    expect(m.manifest.imputation!.reads).toEqual([true, false]);
    expect(m.manifest.denoiser).toMatchObject({ channels: 1, condChannels: 2 });
    const d = join(root, 'reads');
    await saveCheckpoint(d, m);
    const loaded = await loadCheckpoint(d, { channels: ['load', 'flag'] });
    const starts = windowStarts(N, L, 5);
    const w = gatherWindows(rows, C, L, starts);
    const at = { timestamps: windowTimestamps(timestamps, L, starts) };
    expect(scoreWindows(loaded, w, starts.length, at).windowScores).toEqual(scoreWindows(m, w, starts.length, at).windowScores);
    loaded.dispose();
    const manifest = JSON.parse(await readFile(join(d, FILES.manifest), 'utf8'));
    manifest.imputation.reads = [true, true];
    await writeFile(join(d, FILES.manifest), JSON.stringify(manifest));
    const e = await errorOf(loadCheckpoint(d));
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toContain('the net reads 2, with a denoiser built for 1');
    m.dispose();
  });

  it('channels or window length that differ from the stream are MODEL_MISMATCH, listing expected and actual', async () => {
    const before = tf.memory().numTensors;
    const e = await errorOf(loadCheckpoint(dir, { channels: ['load', 'temp'] }));
    expect(e.code).toBe('MODEL_MISMATCH');
    expect(e.message).toContain('[load]');
    expect(e.message).toContain('[load, temp]');
    const w = await errorOf(loadCheckpoint(dir, { windowLength: 32 }));
    expect(w.code).toBe('MODEL_MISMATCH');
    expect(w.message).toMatch(/16 points.*cuts 32/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('makeTrainedModel builds the diffusion process from the manifest schedule', () => {
    const m = makeTrainedModel(model.manifest, model.denoiser);
    expect(m.diffusion.schedule.T).toBe(50);
  });
});
