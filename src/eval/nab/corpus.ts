/**
 * Loads NAB v1.1 from disk: label windows, profiles, stored thresholds, and a detector's
 * results. Layout (numenta/NAB): `data/<category>/<name>.csv`, `labels/combined_windows.json`,
 * `config/profiles.json`, `config/thresholds.json`, `results/<detector>/<category>/<detector>_<name>.csv`.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseNabTimestamp } from './labels.ts';
import { NabError } from './nabError.ts';
import { readCsvColumns } from './readCsvColumns.ts';
import type { CostMatrix, DetectorFile, DetectorResults, LabelWindow } from './types.ts';

/** A stored threshold and the raw score NAB's optimiser recorded with it. */
export interface StoredThreshold {
  threshold: number;
  score: number;
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new NabError('NAB_NOT_FOUND', `cannot read ${file}`, { file }, e);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new NabError('NAB_INVALID', `${file} is not valid JSON`, { file }, e);
  }
}

/** `labels/combined_windows.json`: data path → windows. */
export async function readLabelWindows(nabDir: string): Promise<Record<string, LabelWindow[]>> {
  return (await readJson(join(nabDir, 'labels', 'combined_windows.json'))) as Record<string, LabelWindow[]>;
}

/** `config/profiles.json`: profile name → cost matrix. */
export async function readProfiles(nabDir: string): Promise<Record<string, CostMatrix>> {
  const file = join(nabDir, 'config', 'profiles.json');
  const raw = (await readJson(file)) as Record<string, { CostMatrix?: CostMatrix }>;
  const out: Record<string, CostMatrix> = {};
  for (const [name, p] of Object.entries(raw)) {
    const m = p.CostMatrix;
    if (!m || ![m.tpWeight, m.fpWeight, m.fnWeight].every(Number.isFinite)) {
      throw new NabError('NAB_INVALID', `${file}: profile ${name} has no complete CostMatrix`, { file, field: `${name}.CostMatrix` });
    }
    out[name] = { tpWeight: m.tpWeight, fpWeight: m.fpWeight, fnWeight: m.fnWeight, tnWeight: m.tnWeight ?? 1 };
  }
  return out;
}

/** `config/thresholds.json`: detector → profile → stored threshold and raw score. */
export async function readThresholds(nabDir: string): Promise<Record<string, Record<string, StoredThreshold>>> {
  return (await readJson(join(nabDir, 'config', 'thresholds.json'))) as Record<string, Record<string, StoredThreshold>>;
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/**
 * The folder holding a detector's category folders. `resultsDir` may be NAB's `results/`
 * (holding `<detector>/`) or the detector's own folder.
 */
export async function resolveDetectorDir(resultsDir: string, detector: string): Promise<string> {
  const nested = join(resultsDir, detector);
  if (await isDir(nested)) return nested;
  if (await isDir(resultsDir)) return resultsDir;
  throw new NabError('NAB_NOT_FOUND', `no results for detector ${detector} in ${resultsDir}`, { file: resultsDir, detector });
}

/** The results file of one data file: `<category>/<detector>_<name>.csv`. */
export function resultsPath(detectorDir: string, detector: string, dataPath: string): string {
  return join(detectorDir, dirname(dataPath), `${detector}_${basename(dataPath)}`);
}

export interface ReadResultsOptions {
  /** NAB root: `data/`, `labels/`, `config/`. */
  nabDir: string;
  /** NAB's `results/`, or the detector's folder; default `<nabDir>/results`. */
  resultsDir?: string;
  detector: string;
}

/**
 * Loads a detector's scores for every labelled file, with the data files' timestamps.
 * Every file of the label file must have results: a partial corpus would normalise wrongly.
 */
export async function readDetectorResults(opts: ReadResultsOptions): Promise<DetectorResults> {
  const labels = await readLabelWindows(opts.nabDir);
  const detectorDir = await resolveDetectorDir(opts.resultsDir ?? join(opts.nabDir, 'results'), opts.detector);
  const paths = Object.keys(labels).sort();
  const files = await Promise.all(paths.map((path) => readDetectorFile(opts.nabDir, detectorDir, opts.detector, path, labels[path])));
  const labelWindowCount = paths.reduce((n, p) => n + labels[p].length, 0);
  return { detector: opts.detector, files, labelWindowCount };
}

async function readDetectorFile(nabDir: string, detectorDir: string, detector: string, path: string, windows: LabelWindow[]): Promise<DetectorFile> {
  const dataFile = join(nabDir, 'data', path);
  const scoreFile = resultsPath(detectorDir, detector, path);
  const [[times], [scoreTexts]] = await Promise.all([
    readCsvColumns(dataFile, ['timestamp']),
    readCsvColumns(scoreFile, ['anomaly_score']),
  ]);
  if (scoreTexts.length !== times.length) {
    throw new NabError('NAB_LENGTH_MISMATCH', `${scoreFile} has ${scoreTexts.length} rows, its data file ${times.length}`, { file: scoreFile });
  }
  const timestamps = new Float64Array(times.length);
  const scores = new Float64Array(times.length);
  for (let i = 0; i < times.length; i++) {
    timestamps[i] = parseNabTimestamp(times[i]);
    if (Number.isNaN(timestamps[i])) throw new NabError('NAB_INVALID', `${dataFile}: bad timestamp "${times[i]}"`, { file: dataFile, row: i + 2 });
    scores[i] = parseScore(scoreTexts[i], scoreFile, i + 2);
  }
  return { path, timestamps, scores, windows };
}

/** An empty cell or `nan` is NaN (never a detection), as pandas reads it; other text is an error. */
function parseScore(text: string, file: string, row: number): number {
  const t = text.trim();
  if (t === '' || t.toLowerCase() === 'nan') return Number.NaN;
  const v = Number(t);
  if (Number.isNaN(v)) throw new NabError('NAB_INVALID', `${file}: line ${row} has anomaly_score "${text}"`, { file, row });
  return v;
}
