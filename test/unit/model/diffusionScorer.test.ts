import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/errors.ts';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, type TrainedModel } from '../../../src/model/checkpoint.ts';
import { Denoiser } from '../../../src/model/denoiser.ts';
import { chunkSizes, createDiffusionScorer, type DiffusionScorer } from '../../../src/model/diffusionScorer.ts';
import { scoreWindows } from '../../../src/model/windowScorer.ts';
import type { Window } from '../../../src/types.ts';
import { randomCheckpoint } from './diffusionScorer.fixture.ts';
import { captureLogger, maxAbsDiff, probeEventLoop, useBackend } from './helpers.ts';

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
