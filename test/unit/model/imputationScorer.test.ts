import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImputationScoring, TrainedModel } from '../../../src/model/checkpoint.ts';
import { seededRng } from '../../../src/model/diffusion.ts';
import { imputeChunk, profileResiduals } from '../../../src/model/imputationScorer.ts';
import { normalize } from '../../../src/model/normalization.ts';
import { train } from '../../../src/model/trainer.ts';
import { gatherWindows, windowStarts } from '../../../src/model/windows.ts';
import { gaussians } from '../../../src/random.ts';
import { useBackend } from './helpers.ts';

const L = 16;
const N = 640;

describe('imputeChunk: the context and profile tests in one batch', () => {
  let model: TrainedModel;
  const values = Float64Array.from({ length: N }, (_, i) => 50 + 10 * Math.sin((2 * Math.PI * i) / 16) + (i === 500 ? 6 : 0));

  beforeAll(async () => {
    await useBackend('wasm');
    const timestamps = Float64Array.from({ length: N }, (_, i) => i * 1000);
    model = await train({ values: values.slice(0, 400), channels: ['temp'], timestamps: timestamps.slice(0, 400) }, { windowLength: L, width: 8, depth: 2, embedDim: 8, epochs: 2, batchSize: 32, stride: 2, scoring: 'imputation', profileTest: true });
  });
  afterAll(() => model.dispose());

  // 24 windows run both tests in one batch, 160 in two (over MERGED_BATCH_MAX); both hold the spike at row 500.
  it.each([24, 160])('gives each test its own draws (%i windows): the evidence is the larger of the context NLL and ½ z̄² computed apart', (B) => {
    const z = normalize(model.manifest.normalization, gatherWindows(values, 1, L, windowStarts(N, L, 1).slice(490 - B / 2, 490 + B / 2)));
    const base = model.manifest.imputation!;
    expect(base.profileTest).toBe(true);
    // Uncalibrated and without the too-still term, so that the evidence is exactly max(context, ½ z̄²).
    const imp: ImputationScoring = { ...base, profile: undefined, stillness: undefined, dispersionTest: false };
    const noise = Float32Array.from(gaussians(seededRng(model.manifest.scoreSeed), imp.draws * L));
    const input = { z, b: B, noise };
    const before = tf.memory().numTensors;
    const both = imputeChunk(model, imp, input).evidence;
    const context = imputeChunk(model, { ...imp, profileTest: false }, input).evidence;
    const { zBar } = profileResiduals(model, imp, input);
    expect(tf.memory().numTensors).toBe(before);
    let profileWins = 0;
    for (let w = 0; w < B; w++) {
      const profile = 0.5 * zBar[w] * zBar[w];
      expect(both[w]).toBeCloseTo(Math.max(context[w], profile), 6);
      if (profile > context[w]) profileWins++;
    }
    // Both tests decide some windows, so a swap of their draws would show.
    expect(profileWins).toBeGreaterThan(0);
    expect(profileWins).toBeLessThan(B);
  });
});
