import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ModelError } from '../../../src/errors.ts';
import { trainInBackground, TrainingError, type TrainingResult } from '../../../src/modelOps/backgroundTrainer.ts';
import { loadCheckpoint, type TrainedModel } from '../../../src/model/checkpoint.ts';
import type { ModelConfig } from '../../../src/model/modelConfig.ts';
import { train, type TrainProgress, type TrainSeries } from '../../../src/model/trainer.ts';
import { gatherWindows, windowTimestamps } from '../../../src/model/windows.ts';
import { scoreWindows } from '../../../src/model/windowScorer.ts';
import { captureLogger, probeEventLoop, useBackend } from '../model/helpers.ts';

const N = 400;
const CHANNELS = ['temp', 'load'];
const C = CHANNELS.length;
const L = 32;
/**
 * Small enough to train in about half a second, large enough that one step or the validation
 * scoring blocks a thread for more than the 150 ms the event-loop test allows (measured below).
 */
const tiny: Partial<ModelConfig> = { windowLength: L, width: 32, depth: 3, embedDim: 16, T: 50, t0: 15, epochs: 2, stride: 2, batchSize: 64, seed: 5 };

/** A fresh series each call: the background trainer detaches the arrays it is given. */
function makeSeries(rows = N): TrainSeries {
  const values = new Float64Array(rows * C); // [N, C]
  for (let i = 0; i < rows; i++) {
    values[i * C] = 20 + 5 * Math.sin(i / 3) + (i % 7) * 0.1;
    values[i * C + 1] = 3 * Math.cos(i / 5) + (i % 3) * 0.2;
  }
  const timestamps = Float64Array.from({ length: rows }, (_, i) => 1_700_000_000_000 + i * 60_000);
  return { values, channels: [...CHANNELS], timestamps };
}

const exists = (p: string) => stat(p).then(() => true, () => false);

let root: string;
let inThread: TrainedModel;
/** Largest event-loop gap while the same job trains on this thread: the control of the event-loop test. */
let inThreadMaxGap = 0;
let background: TrainingResult;
const events: TrainProgress[] = [];
let maxGap = 0;
let ticks = 0;
let elapsedMs = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'diffwatch-bg-'));
  await useBackend('wasm');
  ({ value: inThread, maxGap: inThreadMaxGap } = await probeEventLoop(() => train(makeSeries(), tiny)));
  // The probe spans the whole background job, from worker start to the written checkpoint.
  ({ value: background, maxGap, ticks, elapsedMs } = await probeEventLoop(() =>
    trainInBackground({ series: makeSeries(), config: tiny, outDir: path.join(root, 'bg'), backend: 'wasm', onProgress: (p) => events.push(p), log: captureLogger(), workerLogLevel: 'warn' }),
  ));
});

afterAll(async () => {
  inThread?.dispose();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('trainInBackground', () => {
  it('trains the same model as train() on this thread, for the same seed, data and backend', () => {
    expect(background.backend).toBe('wasm');
    expect(background.version).toMatch(/^[0-9a-f]{16}$/);
    expect(background.version).toBe(inThread.manifest.version);
    expect(background.manifest.losses).toEqual(inThread.manifest.losses);
    expect(background.dir).toBe(path.join(root, 'bg'));
  });

  it('delivers every step\'s progress on the main thread, with validation once per epoch', () => {
    const perEpoch = events[0].stepsPerEpoch;
    expect(perEpoch).toBeGreaterThan(1);
    expect(perEpoch).toBe(Math.ceil(background.manifest.trainingData.trainWindows / tiny.batchSize!));
    expect(events).toHaveLength(2 * perEpoch);
    expect(events.map((e) => [e.epoch, e.step])).toEqual([1, 2].flatMap((ep) => Array.from({ length: perEpoch }, (_, s) => [ep, s + 1])));
    expect(events.filter((e) => e.valLoss !== undefined).map((e) => e.valLoss)).toEqual(background.manifest.losses.validation);
    expect(events[events.length - 1].loss).toBeCloseTo(background.manifest.losses.train[1], 10);
    expect(events.every((e) => e.epochs === 2 && Number.isFinite(e.loss) && e.loss > 0)).toBe(true);
  });

  it('keeps the main event loop ticking while the worker trains', () => {
    // One worker on 2 shared cores. The control: the same job on this thread blocks it longer.
    expect(inThreadMaxGap).toBeGreaterThan(150);
    expect(ticks).toBeGreaterThan(elapsedMs / 10 / 3);
    expect(maxGap).toBeLessThan(150);
  });

  it('writes a checkpoint that loads and scores like the model trained on this thread', async () => {
    const model = await loadCheckpoint(background.dir, { channels: CHANNELS, windowLength: L });
    try {
      expect(model.manifest.version).toBe(background.version);
      const starts = [0, 40, 120, 250, N - L];
      const series = makeSeries();
      const windows = gatherWindows(series.values, C, L, starts); // [5, L, C]
      const at = { timestamps: windowTimestamps(series.timestamps, L, starts) }; // [5, L]: the model takes calendar features
      const got = scoreWindows(model, windows, starts.length, at).windowScores;
      const want = scoreWindows(inThread, windows, starts.length, at).windowScores;
      expect(Array.from(got)).toEqual(Array.from(want));
      expect(got.every((s) => Number.isFinite(s) && s > 0)).toBe(true);
    } finally {
      model.dispose();
    }
  });

  it('moves owning arrays to the worker and copies views, and rejects a too-short series with the worker\'s ModelError', async () => {
    const big = new Float64Array(100 * C);
    big.fill(7);
    const view = big.subarray(20 * C, 80 * C); // 60 rows: too few for windows of 32 plus a validation split
    const timestamps = Float64Array.from({ length: 60 }, (_, i) => i * 1000);
    const outDir = path.join(root, 'short');
    const run = trainInBackground({ series: { values: view, channels: [...CHANNELS], timestamps }, config: tiny, outDir, backend: 'wasm', log: captureLogger(), workerLogLevel: 'silent' });
    expect(timestamps.length).toBe(0); // moved, not copied
    expect(view.length).toBe(60 * C); // a view is copied, so its buffer stays usable
    expect(big[0]).toBe(7);
    const err = await run.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ code: 'MODEL_INVALID', coords: { field: 'rows', rows: 60 } });
    expect((err as Error).message).toMatch(/60 rows is too short/);
    expect(await exists(path.join(outDir, 'manifest.json'))).toBe(false);
  });

  it('cancels: aborting terminates the worker, rejects with TRAINING_CANCELLED and completes no checkpoint', async () => {
    const ac = new AbortController();
    const log = captureLogger();
    const outDir = path.join(root, 'cancelled');
    let progressed = 0;
    const err = await trainInBackground({
      series: makeSeries(),
      config: { ...tiny, epochs: 50, patience: 50 },
      outDir,
      backend: 'wasm',
      signal: ac.signal,
      log,
      workerLogLevel: 'warn',
      onProgress: () => {
        if (++progressed === 1) ac.abort(new Error('operator stopped it'));
      },
    }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingError);
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ code: 'TRAINING_CANCELLED', coords: { path: outDir } });
    expect((err as Error).message).toMatch(/cancelled: operator stopped it/);
    expect(progressed).toBe(1); // nothing is delivered after the abort
    // The promise settles only after the thread exited.
    const started = log.lines.find((l) => l.msg === 'background training started');
    expect(log.lines.find((l) => l.msg === 'training worker exited')?.fields).toMatchObject({ threadId: started?.fields?.threadId });
    expect(await exists(path.join(outDir, 'manifest.json'))).toBe(false);
  });

  it('rejects an already-aborted signal and an invalid config before starting a worker', async () => {
    const log = captureLogger();
    const ac = new AbortController();
    ac.abort();
    await expect(trainInBackground({ series: makeSeries(), config: tiny, outDir: path.join(root, 'never'), signal: ac.signal, log })).rejects.toMatchObject({ code: 'TRAINING_CANCELLED' });
    await expect(trainInBackground({ series: makeSeries(), config: { ...tiny, windowLength: 1 }, outDir: path.join(root, 'never'), log })).rejects.toBeInstanceOf(ConfigError);
    expect(log.lines.filter((l) => l.msg === 'background training started')).toHaveLength(0);
  });
});
