import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/errors.ts';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, type TrainedModel } from '../../../src/model/checkpoint.ts';
import { Denoiser } from '../../../src/model/denoiser.ts';
import { chunkSizes, createDiffusionScorer, type DiffusionScorer } from '../../../src/modelOps/diffusionScorer.ts';
import { scoreWindows } from '../../../src/model/windowScorer.ts';
import type { Window } from '../../../src/types.ts';
import { randomCheckpoint } from '../model/diffusionScorer.fixture.ts';
import { captureLogger, maxAbsDiff, probeEventLoop, useBackend } from '../model/helpers.ts';

const CHANNELS = ['temp', 'load'];
const L = 16;
const C = CHANNELS.length;

/** A window of entity e, different for every (e, k): a sine per channel plus a spike in some. */
function makeWindow(e: number, k: number, channels: readonly string[] = CHANNELS): Window {
  const values = new Float32Array(L * channels.length);
  for (let i = 0; i < L; i++) {
    channels.forEach((name, c) => {
      const m = CHANNELS.indexOf(name);
      values[i * channels.length + c] = 10 * m + (1 + m) * Math.sin(0.4 * i + e + 0.1 * k) + ((e + k) % 5 === 0 && i === L - 1 ? 4 : 0);
    });
  }
  return { entityId: `e${e}`, channels, length: L, startTime: k, endTime: k + L - 1, timestamps: Float64Array.from({ length: L }, (_, i) => k + i), values, hasGap: false, sources: [], releases: [] };
}

/** Every window packed `[B, L, C]` in the model's channel order. */
function packed(windows: Window[]): Float32Array {
  const out = new Float32Array(windows.length * L * C);
  windows.forEach((w, b) => out.set(w.values, b * L * C));
  return out;
}

let dir: string;
let version: string;
let scorer: DiffusionScorer;
let reference: TrainedModel;

beforeAll(async () => {
  await useBackend('wasm');
  ({ dir, version } = await randomCheckpoint({ channels: CHANNELS, windowLength: L }));
  scorer = await createDiffusionScorer({ modelDir: dir, workers: 2, backend: 'wasm', maxBatch: 8, log: captureLogger(), workerLogLevel: 'warn' });
  reference = await loadCheckpoint(dir);
});

afterAll(async () => {
  await scorer?.close();
  reference?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('createDiffusionScorer', () => {
  it('names the checkpoint it loaded', () => {
    expect(scorer).toMatchObject({ name: 'diffusion', version, channels: CHANNELS, windowLength: L, backend: 'wasm', conv: 'conv1d' });
  });

  // The workers run the conv1d form on wasm, this thread the unfold form: the comparison covers both.
  it('scores many entities in one call, in input order, equal to scoreWindows in this thread', async () => {
    // 37 windows, maxBatch 8: five chunks over two workers, the last one short.
    const windows = Array.from({ length: 37 }, (_, i) => makeWindow(i % 13, i));
    const got = await scorer.score(windows);
    const want = scoreWindows(reference, packed(windows), windows.length);
    expect(got).toHaveLength(windows.length);
    got.forEach((s, b) => {
      expect(s.warmup).toBe(false);
      expect(s.pointScores).toHaveLength(L);
      expect(s.channelContributions).toHaveLength(C);
      for (let i = 0; i < L; i++) expect(Math.abs(s.pointScores[i] - want.pointScores[b * L + i])).toBeLessThan(1e-6);
      for (let c = 0; c < C; c++) expect(Math.abs(s.channelContributions[c] - want.channelContributions[b * C + c])).toBeLessThan(1e-6);
      expect(s.score).toBe(s.pointScores[L - 1]);
    });
    // The windows differ, so a shuffled or shifted mapping could not pass the comparison above.
    expect(new Set(got.map((s) => s.score)).size).toBeGreaterThan(30);
  });

  // What `diffwatch score` sends: one packed batch, split across the workers by the pool.
  it('scorePacked gives score()\'s numbers exactly and scoreWindows\' in this thread to 1e-6, reconstruction included', async () => {
    const windows = Array.from({ length: 37 }, (_, i) => makeWindow(i % 13, i));
    const timestamps = new Float64Array(windows.length * L); // [B, L]
    windows.forEach((w, b) => timestamps.set(w.timestamps, b * L));
    const got = await scorer.scorePacked(packed(windows), windows.length, { timestamps, reconstruction: true });
    const streamed = await scorer.score(windows);
    const want = scoreWindows(reference, packed(windows), windows.length, { reconstruction: true });
    expect(Array.from(got.windowScores)).toEqual(streamed.map((s) => s.score));
    streamed.forEach((s, b) => expect(got.pointScores.subarray(b * L, (b + 1) * L)).toEqual(s.pointScores));
    const close = (a: Float32Array, b: Float32Array, tol: number) => {
      expect(a).toHaveLength(b.length);
      a.forEach((x, i) => expect(Math.abs(x - b[i])).toBeLessThan(tol * Math.max(1, Math.abs(b[i]))));
    };
    close(got.windowScores, want.windowScores, 1e-6);
    close(got.pointScores, want.pointScores, 1e-6);
    close(got.channelContributions, want.channelContributions, 1e-6);
    close(got.reconstruction!, want.reconstruction!, 1e-6);
    expect(new Set(got.windowScores).size).toBeGreaterThan(30);
    // Without asking, no reconstruction comes back; a batch of the wrong size is refused.
    expect((await scorer.scorePacked(packed(windows.slice(0, 3)), 3)).reconstruction).toBeUndefined();
    await expect(scorer.scorePacked(packed(windows.slice(0, 3)), 4)).rejects.toMatchObject({ code: 'MODEL_MISMATCH' });
    expect((await scorer.scorePacked(new Float32Array(0), 0)).windowScores).toHaveLength(0);
  });

  it('reads windows whose channels come in another order, and reports contributions in that order', async () => {
    const straight = await scorer.score([makeWindow(3, 1)]);
    const swapped = await scorer.score([makeWindow(3, 1, ['load', 'temp'])]);
    expect(swapped[0].score).toBeCloseTo(straight[0].score, 6);
    expect(swapped[0].channelContributions[0]).toBeCloseTo(straight[0].channelContributions[1], 6);
    expect(swapped[0].channelContributions[1]).toBeCloseTo(straight[0].channelContributions[0], 6);
    expect(straight[0].channelContributions[0]).not.toBeCloseTo(straight[0].channelContributions[1], 3);
  });

  it('rejects windows the model cannot read with MODEL_MISMATCH, then keeps scoring', async () => {
    const wrongChannels = { ...makeWindow(1, 1), channels: ['temp', 'rpm'] };
    await expect(scorer.score([makeWindow(0, 0), wrongChannels])).rejects.toMatchObject({ code: 'MODEL_MISMATCH', coords: { entityId: 'e1' } });
    const short = { ...makeWindow(2, 2), length: L - 1 };
    await expect(scorer.score([short])).rejects.toBeInstanceOf(ModelError);
    expect(await scorer.score([makeWindow(0, 0)])).toHaveLength(1);
  });

  it('returns nothing for no windows', async () => {
    expect(await scorer.score([])).toEqual([]);
  });

  it('leaks no tensors in the workers over 100 calls', async () => {
    await scorer.score([makeWindow(0, 0), makeWindow(1, 1)]);
    const before = await scorer.memory();
    for (let k = 0; k < 100; k++) await scorer.score([makeWindow(k % 7, k), makeWindow((k + 1) % 7, k), makeWindow((k + 2) % 7, k)]);
    const after = await scorer.memory();
    expect(after.map((m) => m.numTensors)).toEqual(before.map((m) => m.numTensors));
    expect(before.every((m) => m.models === 1 && m.numTensors > 0)).toBe(true);
  });

  it('keeps the main event loop ticking while the workers score a large batch', async () => {
    const windows = Array.from({ length: 2048 }, (_, i) => makeWindow(i % 50, i));
    const { value, maxGap, ticks, elapsedMs } = await probeEventLoop(() => scorer.score(windows));
    expect(value).toHaveLength(windows.length);
    expect(ticks).toBeGreaterThan(elapsedMs / 10 / 3); // most intervals fired; none starved
    expect(maxGap).toBeLessThan(100);
  });

  // The service's default: with @tensorflow/tfjs-node installed (npm run native:setup), the workers must run it.
  it("backend 'auto' in the workers picks tensorflow where a native package is installed, wasm otherwise, with the conv1d form", async () => {
    const resolves = (pkg: string) => {
      try {
        createRequire(import.meta.url).resolve(pkg);
        return true;
      } catch {
        return false;
      }
    };
    const native = resolves('@tensorflow/tfjs-node') || resolves('@tensorflow/tfjs-node-gpu');
    const s = await createDiffusionScorer({ modelDir: dir, workers: 1, log: captureLogger(), workerLogLevel: 'warn' });
    try {
      expect({ backend: s.backend, conv: s.conv }).toEqual({ backend: native ? 'tensorflow' : 'wasm', conv: 'conv1d' });
      const windows = Array.from({ length: 5 }, (_, i) => makeWindow(i, i));
      const want = scoreWindows(reference, packed(windows), windows.length).windowScores;
      (await s.score(windows)).forEach((got, b) => expect(Math.abs(got.score - want[b])).toBeLessThan(1e-4 * Math.max(1, Math.abs(want[b]))));
    } finally {
      await s.close();
    }
  });

  it('fails start-up with MODEL_NOT_FOUND when there is no checkpoint', async () => {
    await expect(createDiffusionScorer({ modelDir: `${dir}-missing`, workers: 1, backend: 'wasm', log: captureLogger(), workerLogLevel: 'warn' })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });

  it('stops scoring once closed', async () => {
    const s = await createDiffusionScorer({ modelDir: dir, workers: 1, backend: 'wasm', log: captureLogger(), workerLogLevel: 'warn' });
    expect(await s.score([makeWindow(0, 0)])).toHaveLength(1);
    await s.close();
    await expect(s.score([makeWindow(0, 0)])).rejects.toMatchObject({ code: 'POOL_CLOSED' });
  });
});

describe('chunkSizes', () => {
  it('splits into at most maxBatch per chunk and one chunk per worker when there is enough', () => {
    expect(chunkSizes(0, 2, 256)).toEqual([]);
    expect(chunkSizes(1, 2, 256)).toEqual([1]);
    expect(chunkSizes(16, 2, 256)).toEqual([8, 8]);
    expect(chunkSizes(37, 2, 8)).toEqual([8, 8, 7, 7, 7]);
    expect(chunkSizes(600, 2, 256)).toEqual([200, 200, 200]);
  });
});

describe('Denoiser convImpl conv1d (the scoring workers\' fast path)', () => {
  it.each([
    ['same', 'wasm'],
    ['causal', 'wasm'],
    ['same', 'cpu'],
  ] as const)('equals the unfold form: padding %s on %s, dilations 1 to 8', async (padding, backend) => {
    await useBackend(backend);
    const net = new Denoiser({ channels: 3, width: 8, depth: 4, padding, seed: 3 });
    const x = tf.randomNormal([5, 40, 3], 0, 1, 'float32', 11) as tf.Tensor3D; // [B, L, C]
    const t = tf.tensor1d([0, 7, 30, 55, 99], 'int32');
    const before = tf.memory().numTensors;
    const unfold = net.apply(x, t);
    net.convImpl = 'conv1d';
    const native = net.apply(x, t);
    expect(maxAbsDiff(unfold, native)).toBeLessThan(1e-5);
    expect(tf.tidy(() => tf.max(tf.abs(unfold)).dataSync()[0])).toBeGreaterThan(1e-3); // not trivially equal zeros
    tf.dispose([unfold, native]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, t]);
    net.dispose();
    await useBackend('wasm');
  });
});

/**
 * A scorer without a default model, serving two checkpoints at once, as the model registry uses
 * it for per-entity and per-group models and for hot-swapped versions.
 */
describe('createDiffusionScorer with routed models', () => {
  let routed: DiffusionScorer;
  let a: { dir: string; version: string };
  let b: { dir: string; version: string };
  let refA: TrainedModel;
  let refB: TrainedModel;

  beforeAll(async () => {
    await useBackend('wasm');
    a = await randomCheckpoint({ channels: CHANNELS, windowLength: L, seed: 21 });
    b = await randomCheckpoint({ channels: CHANNELS, windowLength: L, seed: 22 });
    refA = await loadCheckpoint(a.dir);
    refB = await loadCheckpoint(b.dir);
    routed = await createDiffusionScorer({ modelDir: null, workers: 2, backend: 'wasm', maxBatch: 4, log: captureLogger(), workerLogLevel: 'warn' });
  });

  afterAll(async () => {
    await routed?.close();
    refA?.dispose();
    refB?.dispose();
    for (const m of [a, b]) if (m) await rm(m.dir, { recursive: true, force: true });
  });

  const routeA = () => ({ modelDir: a.dir, version: a.version });
  const routeB = () => ({ modelDir: b.dir, version: b.version });

  it('has no default model: score() rejects with MODEL_INVALID', async () => {
    expect(routed).toMatchObject({ version: '', channels: [], windowLength: 0 });
    await expect(routed.score([makeWindow(0, 0)])).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/scoreRouted/) });
  });

  it('loads two checkpoints and scores a mixed batch, each window with its own model', async () => {
    expect(a.version).not.toBe(b.version);
    const infoA = await routed.load(a.dir);
    const infoB = await routed.load(b.dir);
    expect(infoA).toMatchObject({ modelDir: a.dir, version: a.version, channels: CHANNELS, windowLength: L, normalization: { center: [0, 10], scale: [1, 2] } });
    expect(infoB).toMatchObject({ modelDir: b.dir, version: b.version });
    expect((await routed.memory()).map((m) => m.models)).toEqual([2, 2]);

    // 21 windows, every third one on B; maxBatch 4 splits each model's share over both workers.
    const windows = Array.from({ length: 21 }, (_, i) => makeWindow(i % 11, i));
    const onB = (i: number) => i % 3 === 1;
    const routes = windows.map((_, i) => (onB(i) ? routeB() : routeA()));
    const got = await routed.scoreRouted(windows, routes);
    expect(got).toHaveLength(windows.length);

    const idxA = windows.map((_, i) => i).filter((i) => !onB(i));
    const idxB = windows.map((_, i) => i).filter(onB);
    const wantA = scoreWindows(refA, packed(idxA.map((i) => windows[i])), idxA.length);
    const wantB = scoreWindows(refB, packed(idxB.map((i) => windows[i])), idxB.length);
    // The other model's scores differ, so a window sent to the wrong model could not pass.
    const crossA = scoreWindows(refB, packed(idxA.map((i) => windows[i])), idxA.length);
    for (const [idx, want, cross, version] of [
      [idxA, wantA, crossA, a.version],
      [idxB, wantB, undefined, b.version],
    ] as const) {
      idx.forEach((k, j) => {
        const s = got[k];
        expect(s.modelVersion).toBe(version);
        expect(s.warmup).toBe(false);
        for (let i = 0; i < L; i++) expect(Math.abs(s.pointScores[i] - want.pointScores[j * L + i])).toBeLessThan(1e-6);
        for (let c = 0; c < C; c++) expect(Math.abs(s.channelContributions[c] - want.channelContributions[j * C + c])).toBeLessThan(1e-6);
        expect(s.score).toBe(s.pointScores[L - 1]);
        if (cross) expect(Math.abs(s.score - cross.windowScores[j])).toBeGreaterThan(1e-4);
      });
    }
  });

  it('a scorer with a default model scores its windows the same way as a routed one', async () => {
    const windows = Array.from({ length: 6 }, (_, i) => makeWindow(i, 2 * i));
    const viaDefault = await scorer.score(windows);
    await routed.load(dir);
    const viaRoute = await routed.scoreRouted(windows, windows.map(() => ({ modelDir: dir, version })));
    viaRoute.forEach((s, k) => {
      expect(s.score).toBe(viaDefault[k].score);
      expect(s.modelVersion).toBe(version);
    });
    await routed.unload(dir);
  });

  it('routing to a version that is not loaded throws MODEL_MISMATCH naming the entity', async () => {
    await routed.load(a.dir);
    const w = [makeWindow(0, 0), makeWindow(4, 1)];
    await expect(routed.scoreRouted(w, [routeA(), { modelDir: a.dir, version: 'stale' }])).rejects.toMatchObject({ code: 'MODEL_MISMATCH', coords: { entityId: 'e4', path: a.dir }, message: expect.stringMatching(new RegExp(`entity e4.*stale.*not loaded; version ${a.version} is`)) });
    await expect(routed.scoreRouted(w, [routeA(), { modelDir: `${a.dir}-other`, version: a.version }])).rejects.toMatchObject({ code: 'MODEL_MISMATCH', coords: { entityId: 'e4' } });
    await expect(routed.scoreRouted(w, [routeA()])).rejects.toMatchObject({ code: 'MODEL_INVALID' });
  });

  it('unload frees the model in every worker, and routing to it then throws', async () => {
    await routed.load(a.dir);
    await routed.load(b.dir);
    const before = await routed.memory();
    await routed.unload(b.dir);
    const after = await routed.memory();
    expect(after.map((m) => m.models)).toEqual(before.map((m) => m.models - 1));
    expect(after.every((m, i) => m.numTensors < before[i].numTensors)).toBe(true);
    await expect(routed.scoreRouted([makeWindow(5, 0)], [routeB()])).rejects.toMatchObject({ code: 'MODEL_MISMATCH', coords: { entityId: 'e5' } });
    // The other model still scores.
    const [s] = await routed.scoreRouted([makeWindow(5, 0)], [routeA()]);
    expect(s.modelVersion).toBe(a.version);
    await routed.load(b.dir); // back for the tests that follow
  });

  it('an affine route scores exactly like scoreWindows with the entity\'s own scaler', async () => {
    await routed.load(a.dir);
    // An entity whose scaler differs from the model's ({ center: [0, 10], scale: [1, 2] }).
    const entity = { center: [1.5, 7], scale: [0.5, 4] };
    const model = { center: [0, 10], scale: [1, 2] };
    const gain = Float32Array.from(model.scale, (s, c) => s / entity.scale[c]);
    const offset = Float32Array.from(model.center, (m, c) => m - entity.center[c] * gain[c]);
    const windows = Array.from({ length: 9 }, (_, i) => makeWindow(i, i));
    const got = await routed.scoreRouted(windows, windows.map(() => ({ ...routeA(), affine: { gain, offset } })));
    const want = scoreWindows(refA, packed(windows), windows.length, { normalization: entity });
    const plain = scoreWindows(refA, packed(windows), windows.length);
    got.forEach((s, k) => {
      expect(s.modelVersion).toBe(a.version);
      for (let i = 0; i < L; i++) {
        const w = want.pointScores[k * L + i];
        expect(Math.abs(s.pointScores[i] - w)).toBeLessThanOrEqual(1e-4 * Math.abs(w) + 1e-7);
      }
      for (let c = 0; c < C; c++) expect(Math.abs(s.channelContributions[c] - want.channelContributions[k * C + c])).toBeLessThan(1e-4);
      // Under the model's own scaler the same windows score differently: the affine map is not a no-op.
      expect(Math.abs(s.score - plain.windowScores[k])).toBeGreaterThan(1e-3 * Math.abs(plain.windowScores[k]));
    });
  });
});
