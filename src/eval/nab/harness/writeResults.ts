/**
 * Writes a run in NAB's results layout, readable by NAB's scorer and by `eval nab-score`:
 * `<out>/<detector>/<category>/<detector>_<file>.csv` with `timestamp,value,anomaly_score,label`.
 *
 * Scores are written in full (the shortest text that reads back as the same float64), not with
 * NAB's `%.3f`: rounding ties the highest scores and changes which rows the sweep can separate.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { resultsPath } from '../corpus.ts';
import type { WindowRows } from '../labels.ts';
import type { CorpusFile, CorpusRun, FileRun } from './runCorpus.ts';

/** `String(v)` round-trips every float64 exactly; NaN is written empty (never a detection). */
export function formatScore(v: number): string {
  return Number.isNaN(v) ? '' : String(v);
}

/** NAB's `label` column: 1 on the rows of a label window, 0 elsewhere. */
export function labelColumn(rows: number, windows: readonly WindowRows[]): Uint8Array {
  const label = new Uint8Array(rows);
  for (const { left, right } of windows) label.fill(1, left, right + 1);
  return label;
}

/** The CSV text of one detector's results for one file. */
export function resultsCsv(file: CorpusFile, run: Pick<FileRun, 'scores'>): string {
  const { rawTimestamps, values } = file.series; // one channel: `value`
  const label = labelColumn(rawTimestamps.length, file.windowRows);
  const lines = new Array<string>(rawTimestamps.length + 1);
  lines[0] = 'timestamp,value,anomaly_score,label';
  for (let i = 0; i < rawTimestamps.length; i++) {
    lines[i + 1] = `${rawTimestamps[i]},${values[i]},${formatScore(run.scores[i])},${label[i]}`;
  }
  return lines.join('\n') + '\n';
}

/**
 * @returns the paths written, one per detector and file.
 * @example await writeResults('out/nab', run) // out/nab/baseline/realKnownCause/baseline_nyc_taxi.csv, ...
 */
export async function writeResults(outDir: string, run: CorpusRun): Promise<string[]> {
  const written: string[] = [];
  for (const { detector, files } of run.runs) {
    const detectorDir = join(outDir, detector.name);
    for (let f = 0; f < run.files.length; f++) {
      const path = resultsPath(detectorDir, detector.name, run.files[f].path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, resultsCsv(run.files[f], files[f]));
      written.push(path);
    }
  }
  return written;
}
