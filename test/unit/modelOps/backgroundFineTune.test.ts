import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import { trainInBackground, type TrainingResult } from '../../../src/modelOps/backgroundTrainer.ts';
import { loadCheckpoint, saveCheckpoint, type TrainedModel } from '../../../src/model/checkpoint.ts';
import { fineTune, type FineTuneOptions } from '../../../src/model/fineTune.ts';
import type { ModelConfig } from '../../../src/model/modelConfig.ts';
import { train, type TrainProgress, type TrainSeries } from '../../../src/model/trainer.ts';
import { captureLogger, useBackend } from '../model/helpers.ts';

const N = 400;
const CHANNELS = ['temp', 'load'];
const C = CHANNELS.length;
const tiny: Partial<ModelConfig> = { windowLength: 16, width: 8, depth: 2, embedDim: 8, T: 50, t0: 15, epochs: 2, stride: 2, seed: 5 };
const options: FineTuneOptions = { epochs: 2, seed: 9, refitNormalization: true };

/** A fresh series each call (the background trainer detaches its arrays); `from` shifts it in time and `level` in value. */
function makeSeries(from = 0, level = 0): TrainSeries {
  const values = new Float64Array(N * C); // [N, C]
  for (let r = 0; r < N; r++) {
    const i = r + from;
    values[r * C] = level + 20 + 5 * Math.sin(i / 3) + (i % 7) * 0.1;
    values[r * C + 1] = 3 * Math.cos(i / 5) + (i % 3) * 0.2;
  }
  const timestamps = Float64Array.from({ length: N }, (_, r) => 1_700_000_000_000 + (r + from) * 60_000);
  return { values, channels: [...CHANNELS], timestamps };
}

const exists = (p: string) => stat(p).then(() => true, () => false);

let root: string;
let parentDir: string;
let base: TrainedModel;
let inThread: TrainedModel;
let background: TrainingResult;
const events: TrainProgress[] = [];

beforeAll(async () => {
  await useBackend('wasm');
  root = await mkdtemp(path.join(os.tmpdir(), 'diffwatch-bgft-'));
  base = await train(makeSeries(), tiny);
  parentDir = path.join(root, 'parent');
  await saveCheckpoint(parentDir, base);
  inThread = await fineTune(base, makeSeries(600, 8), options);
  background = await trainInBackground({ series: makeSeries(600, 8), initFrom: parentDir, fineTune: options, outDir: path.join(root, 'tuned'), backend: 'wasm', onProgress: (p) => events.push(p), log: captureLogger(), workerLogLevel: 'warn' });
});

afterAll(async () => {
  base?.dispose();
  inThread?.dispose();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('trainInBackground with initFrom (fine-tuning)', () => {
  it('fine-tunes the same model as fineTune() on this thread, for the same parent, data, seed and backend', () => {
    expect(background.backend).toBe('wasm');
    expect(background.version).toBe(inThread.manifest.version);
    expect(background.manifest.parent).toBe(base.manifest.version);
    expect(background.manifest.losses).toEqual(inThread.manifest.losses);
    expect(background.manifest.normalization).toEqual(inThread.manifest.normalization);
    expect(background.manifest.training.epochs).toBe(2);
  });

  it('delivers the fine-tune\'s progress and writes a checkpoint that loads with its parent named', async () => {
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.epochs === 2)).toBe(true);
    expect(events.filter((e) => e.valLoss !== undefined).map((e) => e.valLoss)).toEqual(background.manifest.losses.validation);
    const loaded = await loadCheckpoint(background.dir, { channels: CHANNELS });
    expect(loaded.manifest).toEqual(background.manifest);
    loaded.dispose();
  });

  it('fails before a worker starts on a config beside initFrom, fineTune without initFrom, or a bad fine-tune option', async () => {
    const log = captureLogger();
    const outDir = path.join(root, 'never');
    const run = (extra: object) => trainInBackground({ series: makeSeries(), outDir, log, ...extra }).then(() => null, (e: unknown) => e);
    expect(await run({ initFrom: parentDir, config: { epochs: 3 } })).toMatchObject({ code: 'CONFIG_INVALID', coords: { key: 'model' } });
    expect(await run({ config: tiny, fineTune: { epochs: 1 } })).toMatchObject({ code: 'CONFIG_INVALID', coords: { key: 'fineTune' } });
    const bad = await run({ initFrom: parentDir, fineTune: { lr: 0 } });
    expect(bad).toBeInstanceOf(ConfigError);
    expect(bad).toMatchObject({ coords: { key: 'fineTune.lr' } });
    expect(await run({ initFrom: parentDir, fineTune: { refitNormalization: 'yes' } })).toMatchObject({ coords: { key: 'fineTune.refitNormalization' } });
    expect(await run({ initFrom: parentDir, fineTune: { width: 4 } })).toMatchObject({ coords: { key: 'fineTune.width' } });
    expect(log.lines.filter((l) => l.msg === 'background training started')).toHaveLength(0);
  });

  it('rejects with the worker\'s MODEL_NOT_FOUND or MODEL_MISMATCH for a missing parent or other channels, and writes nothing', async () => {
    const outDir = path.join(root, 'failed');
    const common = { outDir, backend: 'wasm' as const, log: captureLogger(), workerLogLevel: 'silent' as const };
    await expect(trainInBackground({ ...common, series: makeSeries(), initFrom: path.join(root, 'nowhere') })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    const swapped = { ...makeSeries(), channels: ['load', 'temp'] };
    await expect(trainInBackground({ ...common, series: swapped, initFrom: parentDir })).rejects.toMatchObject({ code: 'MODEL_MISMATCH' });
    expect(await exists(path.join(outDir, 'manifest.json'))).toBe(false);
  });
});
