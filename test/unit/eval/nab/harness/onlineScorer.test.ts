/**
 * The NAB diffusion detector fine-tuned as the stream goes on (onlineScorer.ts): a new version
 * scores only the rows after those it trained on, every score stays causal, and every tensor is
 * freed. A tiny model keeps this fast.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../../src/errors.ts';
import { diffusionDetector } from '../../../../../src/eval/nab/harness/diffusionDetector.ts';
import { parseFineTuneFlag, scoreReplay, type FileContext } from '../../../../../src/eval/nab/harness/index.ts';
import type { OnlineFineTune } from '../../../../../src/eval/nab/harness/onlineScorer.ts';
import { useBackend } from '../../../model/helpers.ts';
import { series, wave } from './helpers.ts';

const TINY = { windowLength: 16, width: 8, depth: 2, epochs: 3, draws: 2 } as const;
const ROWS = 900;
const P = 200;
const TUNE: OnlineFineTune = { everyRows: 250, recentRows: 500, epochs: 1 };

/** Scores `values` with the detector; returns the row scores and how many fine-tunes ran. */
async function replay(values: number[], fineTune: OnlineFineTune | null) {
  const d = diffusionDetector({ model: TINY, fineTune });
  const s = series(values);
  const ctx: FileContext = { path: 'synthetic/online.csv', rows: ROWS, probationaryRows: P, training: { channels: ['value'], timestamps: s.timestamps.slice(0, P), values: s.values.slice(0, P) }, seed: 2 };
  await useBackend('wasm');
  const before = tf.memory().numTensors;
  const fd = await d.open(ctx);
  const versions: string[] = [];
  // The version scoring each batch, read through the scorer the harness calls.
  const scorer = fd.scorer as typeof fd.scorer & { live(): { manifest: { version: string } }; fineTunes(): number };
  const inner = scorer.score.bind(scorer);
  scorer.score = async (windows) => {
    versions.push(scorer.live().manifest.version);
    return inner(windows);
  };
  // Batches of at most 50 windows: a fine-tune falls between two of them.
  const r = await scoreReplay(s, fd, { entityId: ctx.path, windowLength: TINY.windowLength, microBatchSize: 50 });
  const tunes = scorer.fineTunes();
  await fd.close();
  expect(tf.memory().numTensors).toBe(before);
  return { scores: r.scores, tunes, versions, params: d.params, summary: d.summary };
}

describe('the diffusion detector fine-tuned online', () => {
  const base = wave(ROWS, 4);
  const runs = (async () => ({ plain: await replay(base, null), tuned: await replay(base, TUNE), rewritten: await replay(base.map((v, i) => (i >= 700 ? v + 20 : v)), TUNE) }))();

  it('fine-tunes after every everyRows windows, and the new version scores the batches after it', async () => {
    const { plain, tuned } = await runs;
    const windows = ROWS - TINY.windowLength + 1;
    expect(plain.tunes).toBe(0);
    expect(tuned.tunes).toBe(Math.floor(windows / TUNE.everyRows));
    // Each fine-tune's version takes over once, for every batch after it, and never goes back.
    const changes = tuned.versions.filter((v, i) => i > 0 && v !== tuned.versions[i - 1]).length;
    expect(changes).toBe(tuned.tunes);
    expect(new Set(tuned.versions).size).toBe(tuned.tunes + 1);
    // Until the first fine-tune the scores are the untuned model's; after it they differ.
    const first = TINY.windowLength - 1 + TUNE.everyRows;
    expect(Array.from(tuned.scores.subarray(0, first))).toEqual(Array.from(plain.scores.subarray(0, first)));
    expect(Array.from(tuned.scores.subarray(first))).not.toEqual(Array.from(plain.scores.subarray(first)));
    expect(tuned.params['fineTune.everyRows']).toBe(TUNE.everyRows);
    expect(tuned.summary).toContain('fine-tuned after every 250 rows');
  }, 120_000);

  it('stays causal: rewriting rows from 700 on leaves every earlier score unchanged', async () => {
    const { tuned, rewritten } = await runs;
    expect(Array.from(rewritten.scores.subarray(0, 700))).toEqual(Array.from(tuned.scores.subarray(0, 700)));
    expect(Array.from(rewritten.scores.subarray(700))).not.toEqual(Array.from(tuned.scores.subarray(700)));
  }, 120_000);

  it('--fine-tune takes the three settings or null, and names a bad key', () => {
    expect(parseFineTuneFlag('{"everyRows":1000,"recentRows":4000,"epochs":3}')).toEqual({ everyRows: 1000, recentRows: 4000, epochs: 3 });
    expect(parseFineTuneFlag('null')).toBeNull();
    expect(parseFineTuneFlag(undefined)).toBeUndefined();
    expect(() => parseFineTuneFlag('{"everyRows":0,"recentRows":4000,"epochs":3}')).toThrow(/--fine-tune.everyRows/);
    expect(() => parseFineTuneFlag('{"every":1000}')).toThrow(ConfigError);
  });
});
