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
import { ConfigError, ModelError } from '../../../../../src/errors.ts';
import { diffusionDetector, NAB_DIFFUSION_MODEL, NAB_DIFFUSION_ONSET } from '../../../../../src/eval/nab/harness/diffusionDetector.ts';
import { DETECTORS, runCorpus, scoreReplay, type FileContext, type NabDetector } from '../../../../../src/eval/nab/harness/index.ts';
import { series, wave, writeCorpus } from './helpers.ts';

/**
 * Tiny, but large enough (width 16, 6 epochs) that the imputation score's draws settle on the wave:
 * with width 8 (3, 6 or 10 epochs) a level-shifted stretch opened a third alert, 277 rows into it.
 */
const TINY = { windowLength: 16, width: 16, depth: 2, epochs: 6, draws: 2 } as const;
const ROWS = 1500;
/** NAB's probationary rows of a 1,500-row file: 15 %. */
const P = 225;
const SPIKE = 1300;
/** Rows after which the range and the error ranks have settled on the wave (4 periods). */
const SETTLED = 400;

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

  it('records the onset scorer in its params, keeps the first judge as an option, rejects an unknown one', () => {
    const d = diffusionDetector();
    expect(d.params.judge).toBe('onset');
    expect(d.params['onset.gate.holdWindows']).toBe(NAB_DIFFUSION_ONSET.gate.holdWindows);
    expect(d.params['onset.tailRank.capacity']).toBe(NAB_DIFFUSION_ONSET.tailRank.capacity);
    const first = diffusionDetector({ judge: 'thresholdState' });
    expect(first.params.judge).toBe('thresholdState');
    expect(first.params['calibration.shortWindow']).toBe(1);
    expect(() => diffusionDetector({ judge: 'nope' as 'onset' })).toThrow(ConfigError);
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

  it('gives every row a bounded score, 0 before the first full window, sparse after it', async () => {
    const [a] = await runs;
    const L = TINY.windowLength;
    expect(a.scores.length).toBe(ROWS);
    expect(a.windows).toBe(ROWS - L + 1);
    expect(Array.from(a.scores.subarray(0, L - 1)).every((s) => s === 0)).toBe(true);
    const scored = Array.from(a.scores.subarray(L - 1));
    expect(scored.every((s) => s >= 0 && s < 1)).toBe(true);
    // The onset gate silences the windows that continue an excursion: most rows are 0 ...
    const loud = scored.filter((s) => s > 0);
    expect(loud.length).toBeLessThan(scored.length / 2);
    // ... but not all, and the loud ones follow the model's errors rather than one constant.
    expect(new Set(loud).size).toBeGreaterThan(5);
  });

  it('ranks an injected spike first after the probationary rows and opens one alert per anomaly', async () => {
    const [, b] = await runs;
    const after = Array.from(b.scores.subarray(P));
    const top = P + after.indexOf(Math.max(...after));
    // The error is averaged over the newest points of a window, so its peak may trail the spike a little.
    expect(top).toBeGreaterThanOrEqual(SPIKE);
    expect(top).toBeLessThan(SPIKE + 8);
    // The first rows teach the value range and the error ranks (the range of a 96-row wave is
    // not known before a full period), as NAB's unscored probationary period assumes; from
    // SETTLED on, every alert is one of the two anomalies.
    const onsets = Array.from(b.alertOnsets).flatMap((x, i) => (x === 1 && i >= SETTLED ? [i] : []));
    // Two anomalies, two alerts: the level shift to values never seen (row 900) and the spike.
    expect(onsets).toHaveLength(2);
    expect(onsets[0]).toBeGreaterThanOrEqual(900);
    expect(onsets[0]).toBeLessThan(908);
    expect(onsets[1]).toBeGreaterThanOrEqual(SPIKE);
    expect(onsets[1]).toBeLessThan(SPIKE + 8);
    // Both anomalies score above everything the same model gives the clean series from SETTLED on.
    const [a] = await runs;
    const clean = Math.max(...a.scores.subarray(SETTLED));
    expect(b.scores[onsets[0]]).toBeGreaterThan(clean);
    expect(b.scores[onsets[1]]).toBeGreaterThan(clean);
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
