/**
 * A model trained with `channelGroups` on two unrelated analogue channels and a command that
 * drives one of them: the net is split as the relation tests say, each group narrower, and the
 * checkpoint round-trips with the same scores.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupWidth, namedGroups } from '../../../src/model/channelGroups.ts';
import { loadCheckpoint, saveCheckpoint, type TrainedModel } from '../../../src/model/checkpoint.ts';
import { imputeChunk } from '../../../src/model/imputationScorer.ts';
import { normalize } from '../../../src/model/normalization.ts';
import { train } from '../../../src/model/trainer.ts';
import { scoreWindows, scoringNoise } from '../../../src/model/windowScorer.ts';
import { gatherWindows, windowStarts, windowTimestamps } from '../../../src/model/windows.ts';
import { gaussians, mulberry32 } from '../../../src/random.ts';
import { createDiffusionScorer } from '../../../src/modelOps/diffusionScorer.ts';
import { captureLogger, useBackend } from './helpers.ts';

/** Whether @tensorflow/tfjs-node (or -gpu) is installed (`npm run native:setup`). */
function nativeInstalled(): boolean {
  return ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].some((pkg) => {
    try {
      createRequire(import.meta.url).resolve(pkg);
      return true;
    } catch {
      return false;
    }
  });
}

const L = 16;
const N = 2100; // 7.3 days of 5-minute rows: a fit that spans the calendar's week (profileScope.ts)
const C = 3;
const CHANNELS = ['daily', 'other', 'cmd'];
const timestamps = Float64Array.from({ length: N }, (_, i) => 1_700_000_000_000 + i * 300_000);
const values = (() => {
  const rng = mulberry32(4);
  const [n0, n1] = [gaussians(rng, N), gaussians(rng, N)];
  const out = new Float64Array(N * C);
  let cmd = 0;
  for (let t = 0; t < N; t++) {
    if (rng() < 0.02) cmd = 1 - cmd;
    out.set([10 + 4 * Math.sin((2 * Math.PI * t) / 288) + 0.5 * n0[t], 3 * Math.sin((2 * Math.PI * 2.3 * t) / 288) + 5 * cmd + 0.5 * n1[t], cmd], t * C);
  }
  return out;
})();
const CONFIG = { windowLength: L, width: 16, depth: 2, embedDim: 8, epochs: 1, stride: 4, channelGroups: true };

describe('a model with channel groups', () => {
  let model: TrainedModel;
  let root: string;

  beforeAll(async () => {
    await useBackend('wasm');
    root = await mkdtemp(join(tmpdir(), 'diffwatch-groups-'));
    model = await train({ values, channels: CHANNELS, timestamps }, CONFIG);
  });
  afterAll(async () => {
    model.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('splits the net: each analogue channel alone, the command with the channel it drives, each net narrower', () => {
    expect(model.manifest.denoiser.groups).toEqual([[0], [1, 2]]);
    expect(model.manifest.denoiser.width).toBe(groupWidth(16, 2));
    expect(groupWidth(16, 2)).toBe(12);
  });

  it('gives the calendar to the daily channel\'s net only, and names the groups for the train summary', () => {
    expect(model.manifest.denoiser.groupExtras).toEqual([true, false]);
    expect(namedGroups(model.manifest)).toEqual([{ channels: ['daily'], calendar: true }, { channels: ['other', 'cmd'], calendar: false }]);
  });

  it('counts the profile and dispersion tests for every channel here, with conditionedProfileOnly too: each group reads the calendar or a command', async () => {
    expect(model.manifest.imputation!.profileChannels).toBeUndefined(); // the default: off
    const ruled = await train({ values, channels: CHANNELS, timestamps }, { ...CONFIG, conditionedProfileOnly: true });
    expect(ruled.manifest.imputation!.profileChannels).toBeUndefined();
    ruled.dispose();
  });

  it('with a fit shorter than a week, keeps the tests for the command\'s group only: the calendar\'s profile cannot be calibrated for the week', async () => {
    const days = 1200; // rows: 4.2 days
    const short = await train({ values: values.slice(0, days * C), channels: CHANNELS, timestamps: timestamps.slice(0, days) }, { ...CONFIG, conditionedProfileOnly: true });
    expect(short.manifest.denoiser.groupExtras).toEqual([true, false]);
    expect(short.manifest.imputation!.profileChannels).toEqual([false, true, false]);
    short.dispose();
  });

  it('round-trips through a checkpoint with the same scores', async () => {
    const dir = join(root, 'm');
    await saveCheckpoint(dir, model);
    const loaded = await loadCheckpoint(dir, { channels: CHANNELS, windowLength: L });
    const starts = windowStarts(N, L, 37);
    const w = gatherWindows(values, C, L, starts);
    const B = w.length / (L * C);
    const at = { timestamps: windowTimestamps(timestamps, L, starts) };
    expect(scoreWindows(loaded, w, B, at).windowScores).toEqual(scoreWindows(model, w, B, at).windowScores);
    expect(loaded.manifest.denoiser.groups).toEqual([[0], [1, 2]]);
    loaded.dispose();
  });

  it('scores the same with its groups run as one block-diagonal net', () => {
    const starts = windowStarts(N, L, 53);
    const w = gatherWindows(values, C, L, starts);
    const B = w.length / (L * C);
    const at = { timestamps: windowTimestamps(timestamps, L, starts) };
    const separate = scoreWindows(model, w, B, at);
    model.denoiser.fuseGroups();
    model.denoiser.groupForm = 'blockDiagonal';
    try {
      const block = scoreWindows(model, w, B, at);
      const worst = separate.windowScores.reduce((m, s, i) => Math.max(m, Math.abs(block.windowScores[i] - s) / Math.max(1, Math.abs(s))), 0);
      expect(worst).toBeLessThan(1e-6);
      const contributions = separate.channelContributions.reduce((m, c, i) => Math.max(m, Math.abs(block.channelContributions[i] - c)), 0);
      expect(contributions).toBeLessThan(1e-6);
    } finally {
      model.denoiser.groupForm = 'separate';
    }
  });

  // Where tfjs-node is installed, the scoring workers run calls of up to 64 windows as one
  // block-diagonal net (scoringWorker.ts) and larger ones as separate nets: both give this thread's
  // wasm scores, to the tolerance of another backend's float sums (nativeBackend.test.ts).
  it.runIf(nativeInstalled())('scores alike in tfjs-node workers, in small calls (one block-diagonal net) and large ones (separate nets)', async () => {
    const dir = join(root, 'native');
    await saveCheckpoint(dir, model);
    const starts = windowStarts(N, L, 23);
    const w = gatherWindows(values, C, L, starts);
    const B = w.length / (L * C);
    const at = { timestamps: windowTimestamps(timestamps, L, starts) };
    const want = scoreWindows(model, w, B, at).windowScores;
    for (const maxBatch of [8, 128]) {
      const scorer = await createDiffusionScorer({ modelDir: dir, workers: 1, backend: 'tensorflow', maxBatch, log: captureLogger(), workerLogLevel: 'warn' });
      try {
        expect(scorer.backend).toBe('tensorflow');
        const got = (await scorer.scorePacked(w.slice(), B, { timestamps: at.timestamps.slice() })).windowScores;
        const worst = want.reduce((m, s, i) => Math.max(m, Math.abs(got[i] - s) / Math.max(1, Math.abs(s))), 0);
        expect(worst, `maxBatch ${maxBatch}`).toBeLessThan(1e-4);
      } finally {
        await scorer.close();
      }
    }
  });

  it('without channelGroups the same data trains one net of the full width', async () => {
    const joint = await train({ values, channels: CHANNELS, timestamps }, { ...CONFIG, channelGroups: false, epochs: 1 });
    expect(joint.manifest.denoiser.groups).toBeUndefined();
    expect(joint.manifest.denoiser.width).toBe(16);
    joint.dispose();
  });
});

/**
 * A group that reads neither the calendar nor a command has unconditional whole-window draws, so
 * its profile test asks only whether a stretch lies inside the training range. With
 * ModelConfig.conditionedProfileOnly (opt-in) the daily channel keeps the test, the unrelated cycle not.
 * The context test is calibrated here, so that the left-out terms would have decided some windows.
 */
describe('a model with a group that reads no condition', () => {
  let model: TrainedModel;
  const pair = (() => {
    const out = new Float64Array(N * 2);
    for (let t = 0; t < N; t++) out.set([values[t * C], values[t * C + 1] - 5 * values[t * C + 2]], t * 2);
    return out;
  })();

  beforeAll(async () => {
    await useBackend('wasm');
    model = await train({ values: pair, channels: ['daily', 'other'], timestamps }, { ...CONFIG, conditionedProfileOnly: true, contextCalibration: true });
  });
  afterAll(() => model.dispose());

  it('leaves the profile and dispersion terms out of that group\'s evidence only', () => {
    expect(model.manifest.denoiser.groupExtras).toEqual([true, false]);
    const imp = model.manifest.imputation!;
    expect(imp.profileChannels).toEqual([true, false]);
    const starts = windowStarts(N, L, 5);
    const z = normalize(model.manifest.normalization, gatherWindows(pair, 2, L, starts));
    const input = { z, timestamps: windowTimestamps(timestamps, L, starts), b: starts.length, noise: scoringNoise(model) };
    const counted = imputeChunk(model, imp, input).evidence;
    const contextOnly = imputeChunk(model, { ...imp, profileTest: false }, input).evidence;
    const all = imputeChunk(model, { ...imp, profileChannels: undefined }, input).evidence;
    let raised = 0;
    for (let w = 0; w < starts.length; w++) {
      expect(counted[w * 2 + 1]).toBe(contextOnly[w * 2 + 1]);
      expect(counted[w * 2]).toBe(all[w * 2]);
      if (all[w * 2 + 1] > counted[w * 2 + 1]) raised++;
    }
    expect(raised).toBeGreaterThan(0); // the left-out terms would have decided some windows
  });
});
