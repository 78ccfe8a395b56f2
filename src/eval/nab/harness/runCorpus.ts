/**
 * Runs detectors over a NAB corpus (or the files of it a glob selects), each file independently
 * and through the service's stream operators, and keeps everything the writers need in memory.
 * The corpus is what `labels/combined_windows.json` lists, as in NAB.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../../errors.ts';
import { readCsvSeries, type CsvSeries } from '../../../ingest/csvSeries.ts';
import { readLabelWindows } from '../corpus.ts';
import { PROBATIONARY_PERCENT, probationaryLength, windowRows, type WindowRows } from '../labels.ts';
import { NabError } from '../nabError.ts';
import type { LabelWindow } from '../types.ts';
import { matchFiles } from './matchFiles.ts';
import { selectSplit, type NabSplitChoice } from '../split.ts';
import { scoreReplay, type ReplayScores } from './scoreReplay.ts';
import type { FileContext, NabDetector } from './types.ts';

/** One data file of the run, read once and shared by every detector. */
export interface CorpusFile {
  /** NAB data path, e.g. `realKnownCause/nyc_taxi.csv`. */
  path: string;
  series: CsvSeries;
  windows: readonly LabelWindow[];
  /** The label windows as row ranges, both ends included. */
  windowRows: WindowRows[];
  probationaryRows: number;
}

export interface FileRun extends ReplayScores {
  path: string;
  wallMs: number;
  /** The detector's alert threshold on the anomaly_score scale. */
  alertThreshold: number;
}

export interface DetectorRun {
  detector: NabDetector;
  /** In the order of `CorpusRun.files`. */
  files: FileRun[];
  /** Time spent in this detector (opening, scoring, closing), ms. */
  wallMs: number;
}

export interface CorpusRun {
  nabDir: string;
  pattern?: string;
  /** The half of the corpus run (`data/nab-split.json`); `all` by default. */
  split: NabSplitChoice;
  /** Files the label file lists: the whole corpus, of which `files` may be a subset. */
  corpusFiles: number;
  probationaryPercent: number;
  seed: number;
  files: CorpusFile[];
  runs: DetectorRun[];
  wallMs: number;
}

export interface FileStart {
  path: string;
  detector: string;
  rows: number;
}

export interface FileDone extends FileStart {
  wallMs: number;
  lateRows: number;
  alertOnsets: number;
}

/** What a run reports as it goes (the CLI draws it: src/cli/progress.ts). */
export interface RunProgress {
  fileStart(f: FileStart): void;
  /** Rows of the current file scored so far. */
  fileRows(done: number): void;
  fileDone(f: FileDone): void;
  /** The run is over. */
  done(): void;
}

export interface RunCorpusOptions {
  /** NAB root holding `data/` and `labels/combined_windows.json`. */
  nabDir: string;
  detectors: readonly NabDetector[];
  /** `--files`: see `matchFiles`. All labelled files when absent. */
  pattern?: string;
  /** `--split`: the tuning half, the test half, or all files (default). Applied before `pattern`. */
  split?: NabSplitChoice;
  seed?: number;
  /** NAB's 0.15 unless given. */
  probationaryPercent?: number;
  /** Builds the progress display once the files are read and the total work is known. */
  progress?: (plan: { tasks: number; totalRows: number }) => RunProgress;
}

export async function runCorpus(opts: RunCorpusOptions): Promise<CorpusRun> {
  const started = performance.now();
  const labels = await readLabelWindows(opts.nabDir);
  const all = Object.keys(labels).sort();
  const split = opts.split ?? 'all';
  const half = selectSplit(all, split);
  const paths = matchFiles(half, opts.pattern);
  if (paths.length === 0) {
    throw new ConfigError('--files', `"${opts.pattern}" matches none of the ${half.length} labelled files of split ${split} (e.g. ${half.slice(0, 2).join(', ')})`);
  }
  const pp = opts.probationaryPercent ?? PROBATIONARY_PERCENT;
  const seed = opts.seed ?? 0;
  const runs: DetectorRun[] = opts.detectors.map((detector) => ({ detector, files: [], wallMs: 0 }));
  const files = paths.map((path) => readCorpusFile(opts.nabDir, path, labels[path], pp));
  const rows = files.reduce((n, f) => n + f.series.timestamps.length, 0);
  const progress = opts.progress?.({ tasks: files.length * runs.length, totalRows: rows * runs.length });
  for (const file of files) {
    for (const run of runs) run.files.push(await runFile(run, file, seed, progress));
  }
  progress?.done();
  return { nabDir: opts.nabDir, pattern: opts.pattern, split, corpusFiles: all.length, probationaryPercent: pp, seed, files, runs, wallMs: performance.now() - started };
}

function readCorpusFile(nabDir: string, path: string, windows: readonly LabelWindow[], pp: number): CorpusFile {
  const dataFile = join(nabDir, 'data', path);
  if (!existsSync(dataFile)) throw new NabError('NAB_NOT_FOUND', `${dataFile} is listed in the label file but missing`, { file: dataFile });
  const series = readCsvSeries(dataFile, { columns: ['value'] });
  const rows = series.timestamps.length;
  return { path, series, windows, windowRows: windowRows(series.timestamps, windows, path), probationaryRows: Math.ceil(probationaryLength(rows, pp)) };
}

async function runFile(run: DetectorRun, file: CorpusFile, seed: number, progress?: RunProgress): Promise<FileRun> {
  const { detector } = run;
  const { series, path, probationaryRows: P } = file;
  const rows = series.timestamps.length;
  const C = series.channels.length;
  progress?.fileStart({ path, detector: detector.name, rows });
  const t0 = performance.now();
  const ctx: FileContext = {
    path,
    rows,
    probationaryRows: P,
    // Copies of the probationary rows only: a detector cannot reach a later row from here.
    training: { channels: series.channels, timestamps: series.timestamps.slice(0, P), values: series.values.slice(0, P * C) },
    seed,
  };
  const fd = await detector.open(ctx);
  let scores: ReplayScores;
  try {
    scores = await scoreReplay(series, fd, { entityId: path, windowLength: detector.windowLength, onProgress: (n) => progress?.fileRows(n) });
  } finally {
    await fd.close();
  }
  const wallMs = performance.now() - t0;
  run.wallMs += wallMs;
  const alertOnsets = scores.alertOnsets.reduce((a, b) => a + b, 0);
  progress?.fileDone({ path, detector: detector.name, rows, wallMs, lateRows: scores.lateRows.length, alertOnsets });
  return { ...scores, path, wallMs, alertThreshold: fd.alertThreshold };
}
