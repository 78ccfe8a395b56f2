/**
 * `diffwatch score`: score a CSV series offline with a trained model, through `scoreWindows`,
 * the code path the streaming service uses, so offline and streaming scores agree.
 *
 * Windows slide with a hop of 1; row i gets the score of the window that ENDS at row i (the
 * causal, streaming score). The first L-1 rows have no full window behind them and get an empty
 * score, as the stream emits nothing for them either.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { ConfigError, ModelError } from '../errors.ts';
import type { BackendPreference } from '../model/backend.ts';
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

/** Six significant digits: plenty for a score, and a CSV half the size of full float32 precision. */
const fmt = (v: number) => String(Number(v.toPrecision(6)));

/** The flags of `diffwatch score`, as commander parses them. */
interface ScoreFlags {
  model?: string;
  file?: string;
  out?: string;
  reconstruction?: boolean;
  batch?: number;
  backend?: string;
}

async function score(flags: ScoreFlags): Promise<number> {
  const { model: dir, file, out: outFile } = flags;
  if (!dir) throw new ConfigError('--model', 'is required: a checkpoint directory from `diffwatch train`');
  if (!file) throw new ConfigError('--file', 'is required');
  if (!outFile) throw new ConfigError('--out', 'is required');
  const withRecon = flags.reconstruction === true;
  const batch = flags.batch ?? 512;
  if (!Number.isInteger(batch) || batch < 1) throw new ConfigError('--batch', `must be a positive integer, got ${batch}`);
  const log = (await import('../log.ts')).rootLogger.namespace('score');

  const { initBackend } = await import('../model/backend.ts');
  const { loadCheckpoint } = await import('../model/checkpoint.ts');
  const { scoreWindows } = await import('../model/windowScorer.ts');
  const { gatherWindows, windowStarts, windowTimestamps } = await import('../model/windows.ts');
  const { readCsvSeries } = await import('../ingest/csvSeries.ts');
  const { createProgress } = await import('./progress.ts');
  await initBackend((flags.backend ?? 'auto') as BackendPreference, log);
  const model = await loadCheckpoint(dir);
  try {
    const { channels, windowLength: L } = model.manifest;
    const columns = csvHeader(file);
    const missing = channels.filter((c) => !columns.includes(c));
    if (missing.length > 0) {
      throw new ModelError('MODEL_MISMATCH', `${file} lacks the model's channels [${missing.join(', ')}]: the model needs [${channels.join(', ')}], the file has [${columns.join(', ')}]`, { expected: channels, actual: columns });
    }
    const series = readCsvSeries(file, { columns: channels });
    const C = channels.length;
    const N = series.timestamps.length;
    const started = Date.now();
    const out = await open(outFile, 'w');
    try {
      await out.write(['timestamp', 'score', ...(withRecon ? channels.map((c) => `recon_${c}`) : [])].join(',') + '\n');
      const blank = withRecon ? ','.repeat(C) : '';
      const head = Math.min(L - 1, N);
      if (head > 0) await out.write(series.rawTimestamps.slice(0, head).map((t) => `${t},${blank}\n`).join(''));
      const starts = windowStarts(N, L, 1);
      const progress = createProgress({ title: 'score', log });
      progress.update(0, starts.length);
      try {
        for (let i = 0; i < starts.length; i += batch) {
          const chunk = starts.slice(i, i + batch);
          const timestamps = windowTimestamps(series.timestamps, L, chunk); // [b, L], for models with a calendar
          const r = scoreWindows(model, gatherWindows(series.values, C, L, chunk), chunk.length, { reconstruction: withRecon, timestamps });
          const lines = chunk.map((s, w) => {
            const row = s + L - 1; // the window's newest point
            const recon = r.reconstruction ? r.reconstruction.subarray(((w * L) + L - 1) * C, (w * L + L) * C) : [];
            return [series.rawTimestamps[row], fmt(r.windowScores[w]), ...Array.from(recon, fmt)].join(',');
          });
          await out.write(lines.join('\n') + '\n');
          progress.update(i + chunk.length, starts.length);
        }
      } finally {
        progress.stop();
      }
      const seconds = (Date.now() - started) / 1000;
      log.info('scored', { file, out: outFile, rows: N, windows: starts.length, seconds, windowsPerSecond: Math.round(starts.length / Math.max(seconds, 1e-3)), modelVersion: model.manifest.version });
    } finally {
      await out.close();
    }
  } finally {
    model.dispose();
  }
  return 0;
}

export function scoreCommand(): Command {
  return new Command('score')
    .summary('score a CSV series offline with a trained model (one score per row)')
    .description('Score a CSV series offline with a checkpoint, through the code path the streaming service uses. Row i gets the score of the window that ends at row i (the causal, streaming score); the first windowLength-1 rows get none.')
    .option('--model <dir>', 'checkpoint written by `diffwatch train`')
    .option('--file <csv>', 'header row, then timestamp,value[,value...]; must contain the model\'s channels')
    .option('--out <csv>', 'written as timestamp,score[,recon_<channel>...]; empty score for the first windowLength-1 rows')
    .option('--reconstruction', 'add the model\'s reconstruction of each row\'s newest point, in raw units')
    .option('--batch <n>', 'windows per scoring call (default 512)', numberFlag('--batch'))
    .option('--backend <name>', 'auto (default), tensorflow, webgpu, wasm or cpu')
    .addHelpText('after', examples(
      'diffwatch score --model models/m1 --file data/machine.csv --out scores.csv',
      'diffwatch score --model models/m1 --file data/machine.csv --out scores.csv --reconstruction --backend wasm',
    ))
    .action(withExitCode(score));
}
