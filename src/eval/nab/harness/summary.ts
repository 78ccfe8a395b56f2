/**
 * `<out>/summary.json`: per detector, the NAB scores of its results through the project's
 * scorer (exact sweep, normalised per profile), the window counts and detection delays at the
 * optimised threshold, and the second number: its own streaming alerts as binary detections
 * (1 at alert onsets, 0 elsewhere), scored at the fixed threshold 1, with no optimisation.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { profileReport } from '../nabScore.ts';
import { normalise, nullScore, perfectScore } from '../normalise.ts';
import { prepareCorpus, type PreparedCorpus } from '../prepareCorpus.ts';
import { scoreCorpus } from '../scoreCorpus.ts';
import type { CostMatrix, DetectorResults } from '../types.ts';
import { detectionDelay, type DetectionDelay } from './detectionDelay.ts';
import type { CorpusRun, DetectorRun } from './runCorpus.ts';

export interface ProfileSummary {
  /** 0 = null detector, 100 = perfect (NAB's normalisation). */
  normalised: number;
  raw: number;
  threshold: number;
  /** Label windows detected and missed; `fp`: detections (rows) outside every window. */
  windows: { tp: number; fn: number; fp: number };
  delay: DetectionDelay;
}

export interface DetectorSummary {
  summary: string;
  params: Readonly<Record<string, number | string | boolean>>;
  rows: number;
  wallMs: number;
  rowsPerSecond: number;
  lateRows: number;
  alertOnsets: number;
  /** Profile → normalised score at the optimised threshold. */
  scores: Record<string, number>;
  profiles: Record<string, ProfileSummary>;
  /** The detector's own alerts as detections, at the fixed threshold 1. */
  alerts: { scores: Record<string, number>; profiles: Record<string, ProfileSummary> };
  files: { path: string; rows: number; probationaryRows: number; labelWindows: number; lateRows: number; alertOnsets: number; wallMs: number }[];
}

export interface RunSummary {
  corpus: {
    nabDir: string;
    pattern: string | null;
    /** The half of the corpus run: `tuning`, `test` or `all`. */
    split: string;
    files: number;
    /** True when every labelled file was run: only then are the scores comparable to NAB's scoreboard. */
    complete: boolean;
    rows: number;
    labelWindows: number;
    probationaryPercent: number;
  };
  seed: number;
  wallMs: number;
  detectors: Record<string, DetectorSummary>;
}

/** NAB v1.1's `config/profiles.json`, used when a corpus folder has none. */
export const NAB_PROFILES: Readonly<Record<string, CostMatrix>> = {
  standard: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 1.0, tnWeight: 1.0 },
  reward_low_FP_rate: { tpWeight: 1.0, fpWeight: 0.22, fnWeight: 1.0, tnWeight: 1.0 },
  reward_low_FN_rate: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 2.0, tnWeight: 1.0 },
};

/** Binary alert onsets are detections at exactly this threshold. */
export const ALERT_THRESHOLD = 1;

function results(run: CorpusRun, dr: DetectorRun, pick: (i: number) => Float64Array): DetectorResults {
  const files = run.files.map((f, i) => ({ path: f.path, timestamps: f.series.timestamps, scores: pick(i), windows: f.windows }));
  return { detector: dr.detector.name, files, labelWindowCount: run.files.reduce((n, f) => n + f.windows.length, 0) };
}

function delayAt(run: CorpusRun, scores: (i: number) => Float64Array, threshold: number): DetectionDelay {
  return detectionDelay(run.files.map((f, i) => ({ timestamps: f.series.timestamps, scores: scores(i), windowRows: f.windowRows, probationaryRows: f.probationaryRows })), threshold);
}

function optimised(run: CorpusRun, prepared: PreparedCorpus, scores: (i: number) => Float64Array, cost: CostMatrix): ProfileSummary {
  const r = profileReport(prepared, cost).optimised;
  return { normalised: r.normalised, raw: r.raw, threshold: r.threshold, windows: r.windows, delay: delayAt(run, scores, r.threshold) };
}

function atFixedThreshold(run: CorpusRun, prepared: PreparedCorpus, scores: (i: number) => Float64Array, cost: CostMatrix): ProfileSummary {
  const t = scoreCorpus(prepared, ALERT_THRESHOLD, cost).total;
  return {
    normalised: normalise(t.score, nullScore(prepared, cost), perfectScore(prepared, cost)),
    raw: t.score,
    threshold: ALERT_THRESHOLD,
    windows: { tp: t.detectedWindows, fn: t.missedWindows, fp: t.fp },
    delay: delayAt(run, scores, ALERT_THRESHOLD),
  };
}

function summariseDetector(run: CorpusRun, dr: DetectorRun, profiles: Readonly<Record<string, CostMatrix>>): DetectorSummary {
  const scoresOf = (i: number) => dr.files[i].scores;
  const onsetsOf = (i: number) => Float64Array.from(dr.files[i].alertOnsets);
  const prepared = prepareCorpus(results(run, dr, scoresOf), run.probationaryPercent);
  const alertsPrepared = prepareCorpus(results(run, dr, onsetsOf), run.probationaryPercent);
  const byProfile = <T>(f: (cost: CostMatrix) => T) => Object.fromEntries(Object.entries(profiles).map(([name, cost]) => [name, f(cost)]));
  const main = byProfile((cost) => optimised(run, prepared, scoresOf, cost));
  const alerts = byProfile((cost) => atFixedThreshold(run, alertsPrepared, onsetsOf, cost));
  const rows = run.files.reduce((n, f) => n + f.series.timestamps.length, 0);
  const files = run.files.map((f, i) => {
    const fr = dr.files[i];
    const alertOnsets = fr.alertOnsets.reduce((a, b) => a + b, 0);
    return { path: f.path, rows: f.series.timestamps.length, probationaryRows: f.probationaryRows, labelWindows: f.windows.length, lateRows: fr.lateRows.length, alertOnsets, wallMs: Math.round(fr.wallMs) };
  });
  return {
    summary: dr.detector.summary,
    params: dr.detector.params,
    rows,
    wallMs: Math.round(dr.wallMs),
    rowsPerSecond: Math.round(rows / Math.max(dr.wallMs / 1000, 1e-3)),
    lateRows: files.reduce((n, f) => n + f.lateRows, 0),
    alertOnsets: files.reduce((n, f) => n + f.alertOnsets, 0),
    scores: Object.fromEntries(Object.entries(main).map(([k, v]) => [k, v.normalised])),
    profiles: main,
    alerts: { scores: Object.fromEntries(Object.entries(alerts).map(([k, v]) => [k, v.normalised])), profiles: alerts },
    files,
  };
}

export function summarise(run: CorpusRun, profiles: Readonly<Record<string, CostMatrix>> = NAB_PROFILES): RunSummary {
  return {
    corpus: {
      nabDir: run.nabDir,
      pattern: run.pattern ?? null,
      split: run.split,
      files: run.files.length,
      complete: run.files.length === run.corpusFiles,
      rows: run.files.reduce((n, f) => n + f.series.timestamps.length, 0),
      labelWindows: run.files.reduce((n, f) => n + f.windows.length, 0),
      probationaryPercent: run.probationaryPercent,
    },
    seed: run.seed,
    wallMs: Math.round(run.wallMs),
    detectors: Object.fromEntries(run.runs.map((dr) => [dr.detector.name, summariseDetector(run, dr, profiles)])),
  };
}

/** Writes `<out>/summary.json` and returns its path. */
export async function writeSummary(outDir: string, summary: RunSummary & Record<string, unknown>): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, 'summary.json');
  await writeFile(path, JSON.stringify(summary, null, 2) + '\n');
  return path;
}
