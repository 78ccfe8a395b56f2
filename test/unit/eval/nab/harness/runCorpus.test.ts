/**
 * A run over a tiny on-disk corpus with a scripted detector whose scores and alerts are known,
 * from the detector's inputs to the written results and the summary's two numbers.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatScore, labelColumn, NAB_PROFILES, runCorpus, summarise, writeResults, type CorpusRun, type FileContext, type NabDetector } from '../../../../../src/eval/nab/harness/index.ts';
import { readDetectorResults } from '../../../../../src/eval/nab/index.ts';
import type { Window } from '../../../../../src/types.ts';
import { curve } from '../helpers.ts';
import { writeCorpus } from './helpers.ts';

/** anomaly_score = value / 100 of the newest row; an alert onset wherever value >= 90. */
function scripted(contexts: FileContext[]): NabDetector {
  return {
    name: 'scripted',
    summary: 'test detector',
    windowLength: 1,
    params: {},
    async open(ctx) {
      contexts.push(ctx);
      return {
        scorer: {
          name: 'scripted',
          version: '1',
          score: async (ws: readonly Window[]) => ws.map((w) => ({ pointScores: Float32Array.of(w.values[0]), channelContributions: Float32Array.of(1), score: w.values[0], warmup: false })),
        },
        judge: (_w, s) => ({ anomalyScore: s.score / 100, alertOnset: s.score >= 90 }),
        alertThreshold: 0.9,
        close: async () => {},
      };
    },
  };
}

const N = 200;
// File a: window rows 100..119, a peak (and alert) at 105. File b: window 50..59 is missed, and
// 40 alert onsets at 100, 102, ..., 178 score 92, all false positives.
const a = Array.from({ length: N }, (_, i) => (i === 105 ? 95 : 10 + (i % 7)));
const b = Array.from({ length: N }, (_, i) => (i >= 100 && i < 180 && i % 2 === 0 ? 92 : 10 + (i % 5)));

describe('runCorpus, writeResults and summarise', () => {
  let root: string;
  let nab: string;
  let run: CorpusRun;
  const contexts: FileContext[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'diffwatch-harness-'));
    nab = writeCorpus(root, [
      { path: 'cat/a.csv', values: a, windows: [[100, 119]] },
      { path: 'cat/b.csv', values: b, windows: [[50, 59]] },
      { path: 'other/c.csv', values: a, windows: [] },
    ]);
    run = await runCorpus({ nabDir: nab, detectors: [scripted(contexts)], pattern: 'cat/*', seed: 42 });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('opens a fresh detector per file and shows it only the probationary rows', () => {
    expect(contexts.map((c) => c.path)).toEqual(['cat/a.csv', 'cat/b.csv']);
    for (const c of contexts) {
      expect(c).toMatchObject({ rows: N, probationaryRows: 30, seed: 42 });
      expect(c.training.timestamps.length).toBe(30);
      expect(c.training.values.length).toBe(30);
    }
    expect(Array.from(contexts[0].training.values)).toEqual(a.slice(0, 30));
    expect(run).toMatchObject({ corpusFiles: 3, probationaryPercent: 0.15, seed: 42 });
  });

  it('writes NAB results that the scorer reads back exactly, with labels from the windows', async () => {
    const out = join(root, 'out');
    const written = await writeResults(out, run);
    expect(written).toEqual([join(out, 'scripted', 'cat', 'scripted_a.csv'), join(out, 'scripted', 'cat', 'scripted_b.csv')]);
    const lines = readFileSync(written[0], 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('timestamp,value,anomaly_score,label');
    expect(lines[106]).toBe('2014-04-10 08:45:00,95,0.95,1');
    expect(lines[121]).toMatch(/,0$/); // row 120: just after the window
    // The scorer refuses a partial corpus (other/c.csv has no results) ...
    await expect(readDetectorResults({ nabDir: nab, resultsDir: out, detector: 'scripted' })).rejects.toThrow(/other\/c.csv|scripted_c/);
    // ... so read the results against a corpus of the two files run.
    const two = writeCorpus(root, [
      { path: 'cat/a.csv', values: a, windows: [[100, 119]] },
      { path: 'cat/b.csv', values: b, windows: [[50, 59]] },
    ]);
    const back = await readDetectorResults({ nabDir: two, resultsDir: out, detector: 'scripted' });
    expect(back.files.map((f) => f.path)).toEqual(['cat/a.csv', 'cat/b.csv']);
    back.files.forEach((f, i) => expect(Array.from(f.scores)).toEqual(Array.from(run.runs[0].files[i].scores)));
  });

  it('summarises the optimised NAB score and, separately, the alerts at the fixed threshold', () => {
    const s = summarise(run, NAB_PROFILES);
    expect(s.corpus).toMatchObject({ files: 2, complete: false, rows: 2 * N, labelWindows: 2 });
    const d = s.detectors.scripted;
    const tp = curve(-(119 - 105 + 1) / 20) / curve(-1); // window a caught at row 105
    // Optimised: threshold 0.95 catches window a and nothing else; window b is missed.
    expect(d.profiles.standard.threshold).toBe(0.95);
    expect(d.profiles.standard.raw).toBeCloseTo(tp - 1, 12);
    expect(d.scores.standard).toBeCloseTo((100 * (tp - 1 + 2)) / 4, 10);
    expect(d.profiles.standard.windows).toEqual({ tp: 1, fn: 1, fp: 0 });
    expect(d.profiles.standard.delay).toMatchObject({ detectedWindows: 1, meanRows: 5 });
    // Alerts: the same catch plus 40 false positives far from any window (-0.11 each), no optimisation,
    // so the score falls below the null detector's (an optimiser would have chosen to detect nothing).
    const raw = tp - 40 * 0.11 - 1;
    expect(d.alerts.profiles.standard.raw).toBeCloseTo(raw, 12);
    expect(d.alerts.scores.standard).toBeCloseTo((100 * (raw + 2)) / 4, 10);
    expect(d.alerts.scores.standard).toBeLessThan(0);
    expect(d.alerts.profiles.standard.windows).toEqual({ tp: 1, fn: 1, fp: 40 });
    expect(d.alertOnsets).toBe(41);
    expect(d.files.map((f) => [f.path, f.alertOnsets, f.labelWindows])).toEqual([['cat/a.csv', 1, 1], ['cat/b.csv', 40, 1]]);
  });
});

describe('formatScore and labelColumn', () => {
  it('writes every float64 so that it reads back as the same number', () => {
    for (const v of [0, 0.1, 1 / 3, 0.9999999999999999, 1 - 2 ** -40, 5e-324, 0.123456789012345]) expect(Number(formatScore(v))).toBe(v);
    expect(formatScore(1 - 2 ** -40)).not.toBe(formatScore(1 - 2 ** -39));
    expect(formatScore(Number.NaN)).toBe('');
  });

  it('marks the rows of each window, both ends included', () => {
    expect(Array.from(labelColumn(8, [{ left: 1, right: 2 }, { left: 5, right: 5 }]))).toEqual([0, 1, 1, 0, 0, 1, 0, 0]);
  });
});
