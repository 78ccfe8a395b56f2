/**
 * `diffwatch score`: score a CSV series offline with a trained model, through the scoring worker
 * pool the streaming service uses (`createDiffusionScorer`: each batch is split across the
 * workers, two batches in flight), so offline and streaming scores agree exactly and the command
 * runs at the model's rate.
 *
 * Windows slide with a hop of 1; row i gets the score of the window that ENDS at row i (the
 * causal, streaming score). The first L-1 rows have no full window behind them and get an empty
 * score, as the stream emits nothing for them either.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, ModelError } from '../errors.ts';
import type { BackendPreference } from '../model/backend.ts';
import type { CsvSeries } from '../ingest/csvSeries.ts';
import type { Logger } from '../log.ts';
import type { DiffusionScorer, ScoredBatch } from '../modelOps/diffusionScorer.ts';
import { Command, examples, numberFlag, withExitCode } from './command.ts';

/** The CSV's column names after the timestamp, from its first line only. */
export function csvHeader(file: string): string[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new ConfigError('--file', `cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.toString('utf8', 0, n).split(/\r?\n/)[0].split(',').slice(1).map((h) => h.trim());
  } finally {
    closeSync(fd);
  }
}

/**
 * A plainly missing checkpoint fails here, before any worker thread starts (a second or more);
 * the workers still load and check the whole checkpoint. The message is loadCheckpoint's.
 */
function requireManifest(dir: string): void {
  const manifest = join(dir, 'manifest.json');
  if (!existsSync(manifest)) throw new ModelError('MODEL_NOT_FOUND', `no model at ${dir}: manifest.json is missing; train one with \`diffwatch train --out ${dir}\``, { path: manifest });
}

/** Six significant digits: plenty for a score, and a CSV half the size of full float32 precision. */
const fmt = (v: number) => String(Number(v.toPrecision(6)));

/** The flags of `diffwatch score`, as commander parses them. */
interface ScoreFlags {
  model?: string;
  file?: string;
  out?: string;
  reconstruction?: boolean;
  batch?: number;
  workers?: number;
  backend?: string;
}

/**
 * Batches in flight at once. Each batch is split across the workers, so with two in flight every
 * worker has its next chunk queued while this thread gathers windows and writes rows.
 */
const IN_FLIGHT = 2;

function positiveInt(flag: string, value: number | undefined): number | undefined {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new ConfigError(flag, `must be a positive integer, got ${value}`);
  return value;
}

async function score(flags: ScoreFlags): Promise<number> {
  const { model: dir, file, out: outFile } = flags;
  if (!dir) throw new ConfigError('--model', 'is required: a checkpoint directory from `diffwatch train`');
  if (!file) throw new ConfigError('--file', 'is required');
  if (!outFile) throw new ConfigError('--out', 'is required');
  const withRecon = flags.reconstruction === true;
  const batch = positiveInt('--batch', flags.batch) ?? 512;
  const workers = positiveInt('--workers', flags.workers);
  const log = (await import('../log.ts')).rootLogger.namespace('score');
  const { createDiffusionScorer } = await import('../modelOps/diffusionScorer.ts');
  const { readCsvSeries } = await import('../ingest/csvSeries.ts');
  requireManifest(dir);
  const began = Date.now();
  // The scoring workers the service uses: each selects its backend (logging which and why) and loads the checkpoint.
  const scorer = await createDiffusionScorer({ modelDir: dir, workers, backend: (flags.backend ?? 'auto') as BackendPreference, log });
  try {
    const { channels } = scorer;
    const columns = csvHeader(file);
    const missing = channels.filter((c) => !columns.includes(c));
    if (missing.length > 0) {
      throw new ModelError('MODEL_MISMATCH', `${file} lacks the model's channels [${missing.join(', ')}]: the model needs [${channels.join(', ')}], the file has [${columns.join(', ')}]`, { expected: channels, actual: columns });
    }
    const series = readCsvSeries(file, { columns: [...channels] });
    const started = Date.now();
    const out = await open(outFile, 'w');
    try {
      const windows = await writeScores({ scorer, series, out, batch, withRecon, log });
      const seconds = (Date.now() - started) / 1000;
      log.info('scored', { file, out: outFile, rows: series.timestamps.length, windows, seconds, windowsPerSecond: Math.round(windows / Math.max(seconds, 1e-3)), startupSeconds: (started - began) / 1000, backend: scorer.backend, conv: scorer.conv, workers: scorer.stats?.().size, modelVersion: scorer.version });
    } finally {
      await out.close();
    }
  } finally {
    await scorer.close();
  }
  return 0;
}

interface ScoreRun {
  scorer: DiffusionScorer;
  series: CsvSeries;
  out: FileHandle;
  /** Windows per `scorePacked` call. */
  batch: number;
  withRecon: boolean;
  log: Logger;
}

/**
 * Write the header and one row per CSV row: empty for the first L-1, then the score of every full
 * window, scored IN_FLIGHT batches at a time and written in row order. Returns the windows scored.
 */
async function writeScores({ scorer, series, out, batch, withRecon, log }: ScoreRun): Promise<number> {
  const { gatherWindows, windowStarts, windowTimestamps } = await import('../model/windows.ts');
  const { createProgress } = await import('./progress.ts');
  const { channels, windowLength: L } = scorer;
  const C = channels.length;
  const N = series.timestamps.length;
  await out.write(['timestamp', 'score', ...(withRecon ? channels.map((c) => `recon_${c}`) : [])].join(',') + '\n');
  const blank = withRecon ? ','.repeat(C) : '';
  const head = Math.min(L - 1, N);
  if (head > 0) await out.write(series.rawTimestamps.slice(0, head).map((t) => `${t},${blank}\n`).join(''));
  const starts = windowStarts(N, L, 1);
  const progress = createProgress({ title: 'score', log });
  progress.update(0, starts.length);
  const pending: { chunk: number[]; result: Promise<ScoredBatch> }[] = [];
  let done = 0;
  const writeOldest = async () => {
    const { chunk, result } = pending.shift()!;
    await out.write(rowLines(series.rawTimestamps, chunk, await result, L, C));
    done += chunk.length;
    progress.update(done, starts.length);
  };
  try {
    for (let i = 0; i < starts.length; i += batch) {
      const chunk = starts.slice(i, i + batch);
      const timestamps = windowTimestamps(series.timestamps, L, chunk); // [b, L], for models with a calendar
      const result = scorer.scorePacked(gatherWindows(series.values, C, L, chunk), chunk.length, { reconstruction: withRecon, timestamps });
      result.catch(() => {}); // awaited in writeOldest; this only keeps a failure from being an unhandled rejection until then
      pending.push({ chunk, result });
      if (pending.length >= IN_FLIGHT) await writeOldest();
    }
    while (pending.length > 0) await writeOldest();
  } finally {
    progress.stop();
  }
  return starts.length;
}

/** The CSV rows of one scored batch: each window's newest row, its score and, when asked, that row's reconstruction. */
function rowLines(rawTimestamps: readonly string[], starts: readonly number[], r: ScoredBatch, L: number, C: number): string {
  return starts.map((s, w) => {
    const row = s + L - 1; // the window's newest point
    const recon = r.reconstruction ? r.reconstruction.subarray((w * L + L - 1) * C, (w * L + L) * C) : [];
    return [rawTimestamps[row], fmt(r.windowScores[w]), ...Array.from(recon, fmt)].join(',') + '\n';
  }).join('');
}

export function scoreCommand(): Command {
  return new Command('score')
    .summary('score a CSV series offline with a trained model (one score per row)')
    .description('Score a CSV series offline with a checkpoint, through the scoring workers the streaming service uses. Row i gets the score of the window that ends at row i (the causal, streaming score); the first windowLength-1 rows get none.')
    .option('--model <dir>', 'checkpoint written by `diffwatch train`')
    .option('--file <csv>', 'header row, then timestamp,value[,value...]; must contain the model\'s channels')
    .option('--out <csv>', 'written as timestamp,score[,recon_<channel>...]; empty score for the first windowLength-1 rows')
    .option('--reconstruction', 'add the model\'s reconstruction of each row\'s newest point, in raw units')
    .option('--batch <n>', 'windows per scoring call, split across the workers (default 512)', numberFlag('--batch'))
    .option('--workers <n>', 'scoring worker threads (default: one per core)', numberFlag('--workers'))
    .option('--backend <name>', 'auto (default: the fastest installed; the log says which and why), tensorflow, webgpu, wasm or cpu')
    .addHelpText('after', examples(
      'diffwatch score --model models/m1 --file data/machine.csv --out scores.csv',
      'diffwatch score --model models/m1 --file data/machine.csv --out scores.csv --reconstruction --backend wasm',
      'diffwatch score --model models/m1 --file data/machine.csv --out scores.csv --workers 1',
    ))
    .action(withExitCode(score));
}
