/** A checkpoint with random weights (seeded): scoring tests need a valid model, not a good one. */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MANIFEST_FORMAT, MANIFEST_FORMAT_VERSION, makeTrainedModel, saveCheckpoint, type TrainedModel } from '../../../src/model/checkpoint.ts';
import { Denoiser } from '../../../src/model/denoiser.ts';
import { resolveModelConfig } from '../../../src/model/modelConfig.ts';
import { resolveNoiseScheduleArgs } from '../../../src/model/noiseSchedule.ts';

export interface RandomModelOptions {
  channels: string[];
  windowLength: number;
  draws?: number;
  width?: number;
  depth?: number;
  seed?: number;
}

export function randomModel(o: RandomModelOptions): TrainedModel {
  const C = o.channels.length;
  const training = resolveModelConfig({ windowLength: o.windowLength, draws: o.draws ?? 2, width: o.width ?? 8, depth: o.depth ?? 2, seed: o.seed ?? 7 });
  const net = new Denoiser({ channels: C, width: training.width, depth: training.depth, kernelSize: training.kernelSize, embedDim: training.embedDim, seed: training.seed });
  return makeTrainedModel(
    {
      format: MANIFEST_FORMAT,
      formatVersion: MANIFEST_FORMAT_VERSION,
      version: '',
      schedule: resolveNoiseScheduleArgs({ kind: training.scheduleKind, T: training.T }),
      denoiser: net.getConfig(),
      t0: training.t0,
      steps: training.steps,
      draws: training.draws,
      scoreSeed: training.seed,
      windowLength: o.windowLength,
      channels: [...o.channels],
      // Channels with different centres and scales, so that a channel mix-up changes the scores.
      normalization: { kind: 'robust', center: o.channels.map((_, c) => 10 * c), scale: o.channels.map((_, c) => 1 + c), floored: o.channels.map(() => false), windowCentering: false },
      trainingData: { firstTimestamp: 0, lastTimestamp: 0, rows: 0, trainRows: 0, trainWindows: 0, validationWindows: 0 },
      seed: training.seed,
      training: { ...training },
      losses: { train: [], validation: [], bestEpoch: 0, bestValidation: 0 },
      validationScores: { windows: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 },
    },
    net,
  );
}

/** Save a random model to a fresh temporary directory; returns the directory and the version. */
export async function randomCheckpoint(o: RandomModelOptions): Promise<{ dir: string; version: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'diffwatch-model-'));
  const model = randomModel(o);
  try {
    return { dir, version: await saveCheckpoint(dir, model) };
  } finally {
    model.dispose();
  }
}
