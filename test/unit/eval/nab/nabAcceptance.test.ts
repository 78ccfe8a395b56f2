/**
 * Reproduces NAB v1.1's published results from the corpus at `<repo>/../shared/datasets/nab`.
 * Skipped, with a message, only where that corpus is absent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  normalise,
  nullScore,
  perfectScore,
  prepareCorpus,
  readDetectorResults,
  readProfiles,
  readThresholds,
  scoreCorpus,
  sweep,
  type CostMatrix,
  type DetectorResults,
  type PreparedCorpus,
  type StoredThreshold,
} from '../../../../src/eval/nab/index.ts';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const NAB = join(REPO, '..', 'shared', 'datasets', 'nab');
const present = existsSync(join(NAB, 'labels', 'combined_windows.json'));
if (!present) console.warn(`NAB acceptance tests skipped: no corpus at ${NAB}`);

type Published = Record<string, Record<string, number>>;

describe.skipIf(!present)('NAB v1.1 on the published numenta results', () => {
  let results: DetectorResults;
  let prepared: PreparedCorpus;
  let profiles: Record<string, CostMatrix>;
  let stored: Record<string, Record<string, StoredThreshold>>;
  let published: Published;

  beforeAll(async () => {
    results = await readDetectorResults({ nabDir: NAB, detector: 'numenta' });
    prepared = prepareCorpus(results);
    profiles = await readProfiles(NAB);
    stored = await readThresholds(NAB);
    published = JSON.parse(readFileSync(join(NAB, 'results', 'final_results.json'), 'utf8')) as Published;
  });

  const normalised = (raw: number, cost: CostMatrix) => normalise(raw, nullScore(prepared, cost), perfectScore(prepared, cost));

  it('loads the whole corpus: 58 files, 116 windows, none lost to the probationary period', () => {
    expect(prepared.files).toHaveLength(58);
    expect(prepared.scores).toHaveLength(365_558);
    expect(prepared.labelWindowCount).toBe(116);
    expect(prepared.scorableWindows).toBe(116);
  });

  it.each(['standard', 'reward_low_FN_rate'])('the exact sweep gives the published %s score', (profile) => {
    const cost = profiles[profile];
    const { best } = sweep(prepared, cost);
    expect(Math.abs(normalised(best.score, cost) - published.numenta[profile])).toBeLessThan(0.02);
    expect(best.score).toBeCloseTo(stored.numenta[profile].score, 6);
  });

  it('reward_low_FP_rate: the stored threshold gives the published 63.12, the sweep a better threshold (63.21)', () => {
    const cost = profiles.reward_low_FP_rate;
    const atStored = scoreCorpus(prepared, stored.numenta.reward_low_FP_rate.threshold, cost).total;
    expect(atStored.score).toBeCloseTo(30.43, 2);
    expect(Math.abs(normalised(atStored.score, cost) - published.numenta.reward_low_FP_rate)).toBeLessThan(0.02);
    const { best } = sweep(prepared, cost);
    expect(best.score).toBeGreaterThan(atStored.score + 0.1);
    expect(Math.abs(normalised(best.score, cost) - 63.21)).toBeLessThan(0.02);
  });

  it('scoring at each stored threshold reproduces the stored raw score', () => {
    for (const [profile, s] of Object.entries(stored.numenta)) {
      expect(scoreCorpus(prepared, s.threshold, profiles[profile]).total.score, profile).toBeCloseTo(s.score, 6);
    }
  });

  it('reproduces every file of NAB’s per-file score files (score and point counts)', () => {
    for (const profile of Object.keys(profiles)) {
      const lines = readFileSync(join(NAB, 'results', 'numenta', `numenta_${profile}_scores.csv`), 'utf8').trim().split('\n').slice(1);
      const rows = lines.map((l) => l.split(',')).filter((c) => c[0] === 'numenta');
      expect(rows).toHaveLength(58);
      const threshold = Number(rows[0][3]);
      const byPath = new Map(scoreCorpus(prepared, threshold, profiles[profile]).files.map((f) => [f.path, f]));
      for (const [, , path, , score, tp, tn, fp, fn, total] of rows) {
        const got = byPath.get(path)!;
        expect(got.score, `${profile} ${path}`).toBeCloseTo(Number(score), 8);
        expect([got.tp, got.tn, got.fp, got.fn, got.rows], `${profile} ${path}`).toEqual([tp, tn, fp, fn, total].map(Number));
      }
    }
  });

  it('sweeps all three profiles over the whole corpus in well under a few seconds', () => {
    const started = performance.now();
    const fresh = prepareCorpus(results); // includes the one sort
    for (const cost of Object.values(profiles)) sweep(fresh, cost);
    expect(performance.now() - started).toBeLessThan(3000);
  });
});

describe.skipIf(!present)('NAB v1.1 on other detectors', () => {
  let profiles: Record<string, CostMatrix>;
  let stored: Record<string, Record<string, StoredThreshold>>;
  let labelled: DetectorResults;

  beforeAll(async () => {
    profiles = await readProfiles(NAB);
    stored = await readThresholds(NAB);
    labelled = await readDetectorResults({ nabDir: NAB, detector: 'numenta' });
  });

  /** The same corpus with other scores, as NAB's detectors would write them. */
  const withScores = (detector: string, score: (file: DetectorResults['files'][number], row: number) => number): DetectorResults => ({
    detector,
    labelWindowCount: labelled.labelWindowCount,
    files: labelled.files.map((f) => ({ ...f, scores: Float64Array.from(f.scores, (_, i) => score(f, i)) })),
  });

  it('every detector with results on disk reproduces its stored raw scores', async () => {
    const dirs = readdirSync(join(NAB, 'results'), { withFileTypes: true }).filter((d) => d.isDirectory() && stored[d.name]);
    expect(dirs.length).toBeGreaterThan(0);
    for (const { name } of dirs) {
      const prepared = prepareCorpus(await readDetectorResults({ nabDir: NAB, detector: name }));
      for (const [profile, s] of Object.entries(stored[name])) {
        expect(scoreCorpus(prepared, s.threshold, profiles[profile]).total.score, `${name} ${profile}`).toBeCloseTo(s.score, 6);
      }
    }
  });

  it('null detector (constant 0.5, nab/detectors/null): stored raw scores at 0.625, and 0 normalised', () => {
    const prepared = prepareCorpus(withScores('null', () => 0.5));
    for (const [profile, s] of Object.entries(stored.null)) {
      const cost = profiles[profile];
      const raw = scoreCorpus(prepared, s.threshold, cost).total.score;
      expect(raw, profile).toBe(s.score);
      const best = sweep(prepared, cost).best;
      expect(normalise(best.score, nullScore(prepared, cost), perfectScore(prepared, cost))).toBe(0);
    }
  });

  it('a detector firing exactly at each window’s first row scores 100 on every profile', () => {
    const starts = new Set<string>();
    const prepared0 = prepareCorpus(labelled);
    for (const f of prepared0.files) {
      for (let r = f.rowStart; r < f.rowEnd; r++) {
        const w = prepared0.windowOf[r];
        if (w >= 0 && (r === f.rowStart || prepared0.windowOf[r - 1] !== w)) starts.add(`${f.path}#${r - f.rowStart}`);
      }
    }
    expect(starts.size).toBe(116);
    const prepared = prepareCorpus(withScores('perfect', (f, i) => (starts.has(`${f.path}#${i}`) ? 1 : 0)));
    for (const [profile, cost] of Object.entries(profiles)) {
      const { best } = sweep(prepared, cost);
      expect(normalise(best.score, nullScore(prepared, cost), perfectScore(prepared, cost)), profile).toBeCloseTo(100, 9);
      expect(best).toMatchObject({ threshold: 1, detectedWindows: 116, fp: 0 });
    }
  });
});
