import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../src/model/checkpoint.ts';
import type { ScoredBatch, ScoringReply, ScoringRequest, ScoringWorkerData, UnloadReply } from '../../../src/modelOps/scoringWorker.ts';
import { scoreWindows } from '../../../src/model/windowScorer.ts';
import { createWorkerPool, type WorkerPool } from '../../../src/modelOps/workerPool.ts';
import { randomCheckpoint } from '../model/diffusionScorer.fixture.ts';
import { captureLogger, useBackend } from '../model/helpers.ts';

const CHANNELS = ['temp', 'load'];
const L = 16;
const C = CHANNELS.length;
const B = 5;

interface Memory {
  numTensors: number;
  numBytes: number;
  models: number;
}

/** B windows `[B, L, C]` in an entity's own units: level 500 and 40, spread 25 and 0.1. */
function entityWindows(): Float32Array {
  const out = new Float32Array(B * L * C);
  for (let b = 0; b < B; b++) for (let i = 0; i < L; i++) {
    out[(b * L + i) * C] = 500 + 25 * Math.sin(0.4 * i + b);
    out[(b * L + i) * C + 1] = 40 + 0.1 * Math.cos(0.3 * i + 2 * b);
  }
  return out;
}

let pool: WorkerPool<ScoringRequest, ScoringReply>;
let a: { dir: string; version: string };
let b: { dir: string; version: string };

const memory = async () => (await pool.broadcast({ kind: 'memory' })) as Memory[];

beforeAll(async () => {
  await useBackend('wasm');
  a = await randomCheckpoint({ channels: CHANNELS, windowLength: L, seed: 1 });
  b = await randomCheckpoint({ channels: CHANNELS, windowLength: L, seed: 2, width: 16 });
  const data: ScoringWorkerData = { backend: 'wasm', logLevel: 'warn' };
  pool = createWorkerPool({ entry: new URL('../../../src/modelOps/scoringWorker.ts', import.meta.url), size: 2, data, name: 'scoring', log: captureLogger() });
});

afterAll(async () => {
  await pool?.close();
  for (const d of [a, b]) if (d) await rm(d.dir, { recursive: true, force: true });
});

describe('scoring worker', () => {
  it('unload frees a checkpoint\'s weights in every worker, answers the models left, and is a no-op when nothing is loaded', async () => {
    const empty = await memory();
    expect(empty.every((m) => m.models === 0)).toBe(true);
    await pool.broadcast({ kind: 'load', modelDir: a.dir });
    const withA = await memory();
    await pool.broadcast({ kind: 'load', modelDir: b.dir });
    const withBoth = await memory();
    expect(withBoth.map((m) => m.models)).toEqual([2, 2]);
    withBoth.forEach((m, w) => expect(m.numTensors).toBeGreaterThan(withA[w].numTensors));

    expect(await pool.broadcast({ kind: 'unload', modelDir: a.dir })).toEqual([{ models: 1 }, { models: 1 }] satisfies UnloadReply[]);
    const onlyB = await memory();
    // What A added on load is exactly what unloading it gave back.
    onlyB.forEach((m, w) => expect(m.numTensors).toBe(withBoth[w].numTensors - (withA[w].numTensors - empty[w].numTensors)));
    onlyB.forEach((m, w) => expect(m.numBytes).toBeLessThan(withBoth[w].numBytes));
    expect(await pool.broadcast({ kind: 'unload', modelDir: a.dir })).toEqual([{ models: 1 }, { models: 1 }]);
    expect((await memory()).map((m) => m.numTensors)).toEqual(onlyB.map((m) => m.numTensors));

    // B still scores; A loads again on demand after its unload.
    const scored = (await pool.run({ kind: 'score', modelDir: b.dir, version: b.version, windows: entityWindows(), batch: B })) as ScoredBatch;
    expect(scored.windowScores).toHaveLength(B);
    await pool.broadcast({ kind: 'unload', modelDir: b.dir });
    expect((await memory()).map((m) => [m.models, m.numTensors])).toEqual(empty.map((m) => [0, m.numTensors]));
  });

  it('scores with the entity\'s own scaler when the request carries one, as scoreWindows does on this thread', async () => {
    const normalization = { center: [500, 40], scale: [25, 0.1] };
    const windows = entityWindows();
    const own = (await pool.run({ kind: 'score', modelDir: a.dir, version: a.version, windows: windows.slice(), batch: B, normalization })) as ScoredBatch;
    const modelScaler = (await pool.run({ kind: 'score', modelDir: a.dir, version: a.version, windows: windows.slice(), batch: B })) as ScoredBatch;
    const model = await loadCheckpoint(a.dir);
    try {
      const want = scoreWindows(model, windows, B, { normalization });
      const wantModel = scoreWindows(model, windows, B);
      for (let w = 0; w < B; w++) {
        // The workers run the conv1d form, this thread the unfold form: equal up to float rounding.
        expect(Math.abs(own.windowScores[w] - want.windowScores[w])).toBeLessThan(1e-4 * (1 + want.windowScores[w]));
        expect(Math.abs(modelScaler.windowScores[w] - wantModel.windowScores[w])).toBeLessThan(1e-4 * (1 + wantModel.windowScores[w]));
        // The two scalers give clearly different scores, so a worker that dropped `normalization` would fail above.
        expect(Math.abs(wantModel.windowScores[w] - want.windowScores[w])).toBeGreaterThan(0.1 * want.windowScores[w]);
      }
    } finally {
      model.dispose();
    }
  });

  it('refuses an entity scaler of the wrong size with the worker\'s MODEL_MISMATCH', async () => {
    await expect(pool.run({ kind: 'score', modelDir: a.dir, version: a.version, windows: entityWindows(), batch: B, normalization: { center: [1], scale: [1] } })).rejects.toMatchObject({ code: 'MODEL_MISMATCH' });
  });
});
