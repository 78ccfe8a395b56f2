/**
 * The diffusion detector through the harness: it trains on the probationary rows only, its
 * scores are causal, it scores every row, and it frees every tensor. A tiny model keeps this
 * fast; the corpus configuration is measured in docs/evaluation.md.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../../../../src/errors.ts';
import { diffusionDetector, NAB_DIFFUSION_MODEL } from '../../../../../src/eval/nab/harness/diffusionDetector.ts';
import { DETECTORS, runCorpus, scoreReplay, type FileContext, type NabDetector } from '../../../../../src/eval/nab/harness/index.ts';
import { series, wave, writeCorpus } from './helpers.ts';

const TINY = { windowLength: 16, width: 8, depth: 2, epochs: 3, draws: 2 } as const;
const ROWS = 1500;
/** NAB's probationary rows of a 1,500-row file: 15 %. */
const P = 225;
const SPIKE = 1300;

const root = mkdtempSync(join(tmpdir(), 'nab-diffusion-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the detector over a one-file corpus; returns the row scores and the version of the model each open trained. */
async function run(values: number[]) {
  const versions: string[] = [];
  const inner = diffusionDetector({ model: TINY });
  const detector: NabDetector = {
    ...inner,
    open: async (ctx) => {
      const fd = await inner.open(ctx);
      versions.push(fd.scorer.version);
      return fd;
    },
  };
  const nab = writeCorpus(root, [{ path: 'synthetic/wave.csv', values, windows: [[SPIKE - 20, SPIKE + 20]] }]);
  const result = await runCorpus({ nabDir: nab, detectors: [detector] });
  expect(result.files[0].probationaryRows).toBe(P);
  return { version: versions[0], ...result.runs[0].files[0] };
}

describe('diffusionDetector', () => {
  const base = wave(ROWS, 3);
  // The future rewritten: a level shift and a spike, all after the probationary rows.
  const future = base.map((v, i) => (i >= 900 ? v + 15 : v) + (i === SPIKE ? 300 : 0));
  // One after the other: each open trains through the shared TF.js engine.
  const runs = (async () => [await run(base), await run(future)] as const)();

  it('is registered as "diffusion" with the corpus configuration', () => {
    const d = DETECTORS.diffusion();
    expect(d.name).toBe('diffusion');
    expect(d.windowLength).toBe(NAB_DIFFUSION_MODEL.windowLength);
    expect(d.params['model.epochs']).toBe(NAB_DIFFUSION_MODEL.epochs);
  });

  it('trains on the probationary rows only: rows after them leave the model unchanged', async () => {
    const [a, b] = await runs;
    expect(b.version).toBe(a.version);
    // A change inside the probationary period does change the model, so the equality above is not vacuous.
    const c = await run(base.map((v, i) => (i === P - 10 ? v + 5 : v)));
    expect(c.version).not.toBe(a.version);
  }, 30_000);

  it('scores causally: rewriting rows from 900 on leaves every earlier score and alert unchanged', async () => {
    const [a, b] = await runs;
    expect(Array.from(b.scores.subarray(0, 900))).toEqual(Array.from(a.scores.subarray(0, 900)));
    expect(Array.from(b.alertOnsets.subarray(0, 900))).toEqual(Array.from(a.alertOnsets.subarray(0, 900)));
    // The rewrite does change the later scores, so the equality above is not vacuous.
    expect(Array.from(b.scores.subarray(900))).not.toEqual(Array.from(a.scores.subarray(900)));
  });

  it('gives every row a bounded score, 0 only before the first full window', async () => {
    const [a] = await runs;
    const L = TINY.windowLength;
    expect(a.scores.length).toBe(ROWS);
    expect(a.windows).toBe(ROWS - L + 1);
    expect(Array.from(a.scores.subarray(0, L - 1)).every((s) => s === 0)).toBe(true);
    const scored = Array.from(a.scores.subarray(L - 1));
    expect(scored.every((s) => s > 0 && s < 1)).toBe(true);
    // Not one constant: the scores follow the model's errors.
    expect(new Set(scored).size).toBeGreaterThan(ROWS / 2);
  });

  it('ranks an injected spike first after the probationary rows and opens the only alert at it', async () => {
    const [, b] = await runs;
    const after = Array.from(b.scores.subarray(P));
    const top = P + after.indexOf(Math.max(...after));
    // The likelihood averages the last 10 window scores, so its peak may trail the spike.
    expect(top).toBeGreaterThanOrEqual(SPIKE);
    expect(top).toBeLessThan(SPIKE + 10);
    expect(b.alertOnsets.subarray(SPIKE, SPIKE + 10).some((x) => x === 1)).toBe(true);
    // ...and it is the only alert: the level shift at row 900 changes the level, not the shape the model reconstructs.
    expect(b.alertOnsets.reduce((n, x) => n + x, 0)).toBe(1);
  });

  it('frees every tensor it made once closed', async () => {
    await runs;
    const d = diffusionDetector({ model: TINY });
    const values = wave(400, 5);
    const ctx: FileContext = {
      path: 'synthetic/leak.csv',
      rows: 400,
      probationaryRows: 200,
      training: { channels: ['value'], timestamps: series(values).timestamps.slice(0, 200), values: Float64Array.from(values.slice(0, 200)) },
      seed: 1,
    };
    const before = tf.memory().numTensors;
    const fd = await d.open(ctx);
    await scoreReplay(series(values), fd, { entityId: ctx.path, windowLength: d.windowLength });
    await fd.close();
    expect(tf.memory().numTensors).toBe(before);
  }, 30_000);

  it('fails with the file named when the probationary rows are too few to train on', async () => {
    const d = diffusionDetector({ model: TINY });
    const ctx: FileContext = { path: 'synthetic/short.csv', rows: 30, probationaryRows: 20, training: { channels: ['value'], timestamps: new Float64Array(20), values: new Float64Array(20) }, seed: 0 };
    const err = await d.open(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).code).toBe('MODEL_INVALID');
    expect((err as ModelError).message).toContain('synthetic/short.csv');
    expect((err as ModelError).coords.entityId).toBe('synthetic/short.csv');
  });
});
