/**
 * `diffwatch score` against the model's own rate: the CLI's windows/s on a CSV, and the rate of
 * the scoring worker pool (`createDiffusionScorer`, what the service scores with) on the same
 * windows, in one run, with their ratio.
 *
 *   npx tsx bench/scoreCli.ts                                  # 3 runs, the first 3,200 rows of machine_temperature
 *   npx tsx bench/scoreCli.ts --model <dir> --workers 2 --json
 *   npx tsx bench/scoreCli.ts --baseline <checkout>/bin/diffwatch.js   # also another build's CLI, each run
 *
 * Without `--model`, a small default model is trained first with `diffwatch train --epochs 1
 * --seed 1` (speed does not depend on the weights). Each run scores the file once with the CLI
 * (a child process: `node bin/diffwatch.js score`) and then once with the pool in this process,
 * so both see the same load; every figure is the median of `--runs`, and the paired ratio is the
 * median of the runs' own ratios. The CLI figure is its own
 * `scored` log line (the scoring loop, from the first window to the last row written); `wall s`
 * is the whole command, start-up and model loading included. The pool figure is one `score()`
 * call with every window, after a warm-up call.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { readCsvSeries } from '../src/ingest/csvSeries.ts';
import { createLogger, setLogLevel } from '../src/log.ts';
import { gatherWindows, windowStarts, windowTimestamps } from '../src/model/windows.ts';
import type { BackendPreference } from '../src/model/backend.ts';
import { createDiffusionScorer } from '../src/modelOps/diffusionScorer.ts';
import type { Window } from '../src/types.ts';

const run = promisify(execFile);
const { values: flags } = parseArgs({
  options: {
    file: { type: 'string', default: 'data/nab/machine_temperature_system_failure.csv' },
    rows: { type: 'string', default: '3200' },
    model: { type: 'string' },
    runs: { type: 'string', default: '3' },
    workers: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    'cli-args': { type: 'string', default: '' },
    baseline: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const RUNS = Number(flags.runs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const progress = (msg: string) => process.stderr.write(`${msg}\n`);
const BIN = fileURLToPath(new URL('../bin/diffwatch.js', import.meta.url));
setLogLevel('warn');

/** The first `rows` data rows of `file`, with its header. */
async function headOf(file: string, rows: number, out: string): Promise<void> {
  const lines = (await readFile(file, 'utf8')).split(/\r?\n/);
  await writeFile(out, lines.slice(0, rows + 1).join('\n') + '\n');
}

interface CliRun { windows: number; windowsPerSec: number; wallS: number; startupS: number; backend: string }

/** The CLI's figures of one run: windows/s from its `scored` line, and the wall time of the whole command. */
async function scoreWithCli(bin: string, model: string, csv: string, out: string): Promise<CliRun> {
  const extra = flags['cli-args'].split(' ').filter(Boolean);
  const args = [bin, 'score', '--model', model, '--file', csv, '--out', out, '--backend', flags.backend, ...(flags.workers ? ['--workers', flags.workers] : []), ...extra];
  const t0 = performance.now();
  const { stderr } = await run(process.execPath, args, { maxBuffer: 64 << 20 });
  const wallS = (performance.now() - t0) / 1000;
  const lines = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const scored = lines.find((l) => l.msg === 'scored');
  if (!scored) throw new Error(`diffwatch score logged no 'scored' line:\n${stderr.slice(-2000)}`);
  const selected = lines.find((l) => l.msg === 'model backend selected' || l.msg === 'diffusion scorer ready');
  const windows = Number(scored.windows);
  // startupSeconds: from the command's start to its first window (absent from builds that did not log it).
  return { windows, windowsPerSec: windows / Number(scored.seconds), wallS, startupS: Number(scored.startupSeconds ?? NaN), backend: String(selected?.backend ?? '?') };
}

/** The same windows as the CLI scores (hop 1, in the model's channel order), as the service hands them to the pool. */
function windowsOf(csv: string, channels: readonly string[], L: number): Window[] {
  const series = readCsvSeries(csv, { columns: [...channels] });
  const C = channels.length;
  const starts = windowStarts(series.timestamps.length, L, 1);
  const values = gatherWindows(series.values, C, L, starts); // [W, L, C]
  const times = windowTimestamps(series.timestamps, L, starts); // [W, L]
  return starts.map((_, w) => ({
    entityId: 'bench', channels, length: L, startTime: times[w * L], endTime: times[w * L + L - 1],
    timestamps: times.slice(w * L, (w + 1) * L), values: values.slice(w * L * C, (w + 1) * L * C),
    hasGap: false, sources: [], releases: [],
  }));
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'diffwatch-score-bench-'));
  try {
    const csv = path.join(dir, 'series.csv');
    await headOf(flags.file, Number(flags.rows), csv);
    let model = flags.model;
    if (!model) {
      model = path.join(dir, 'model');
      progress(`training a small default model on ${flags.rows} rows (1 epoch)...`);
      await run(process.execPath, [BIN, 'train', '--file', csv, '--out', model, '--epochs', '1', '--seed', '1', '--json'], { maxBuffer: 64 << 20 });
    }
    const loadStart = os.loadavg();
    const workers = flags.workers ? Number(flags.workers) : undefined;
    const pool = await createDiffusionScorer({ modelDir: model, workers, backend: flags.backend as BackendPreference, log: createLogger('bench'), workerLogLevel: 'warn' });
    const cli: CliRun[] = [];
    const base: CliRun[] = [];
    const poolRates: number[] = [];
    try {
      const windows = windowsOf(csv, pool.channels, pool.windowLength);
      await pool.score(windows.slice(0, 512)); // warm-up: kernels, first allocations
      for (let r = 0; r < RUNS; r++) {
        cli.push(await scoreWithCli(BIN, model, csv, path.join(dir, 'scores.csv')));
        if (flags.baseline) base.push(await scoreWithCli(flags.baseline, model, csv, path.join(dir, 'baseline.csv')));
        const t0 = performance.now();
        await pool.score(windows);
        poolRates.push(windows.length / ((performance.now() - t0) / 1000));
        progress(`run ${r + 1}/${RUNS}: diffwatch score ${Math.round(cli[r].windowsPerSec)} windows/s (${cli[r].wallS.toFixed(1)} s wall), pool ${Math.round(poolRates[r])} windows/s${base[r] ? `, baseline ${Math.round(base[r].windowsPerSec)}` : ''}`);
      }
    } finally {
      await pool.close();
    }
    const cliRate = median(cli.map((c) => c.windowsPerSec));
    const poolRate = median(poolRates);
    const result = {
      file: flags.file, rows: Number(flags.rows), windows: cli[0].windows, runs: RUNS,
      backend: { cli: cli[0].backend, pool: pool.backend }, conv: pool.conv, workers: pool.stats?.().size,
      cliWindowsPerSec: Math.round(cliRate), cliWallS: Number(median(cli.map((c) => c.wallS)).toFixed(2)), cliStartupS: Number(median(cli.map((c) => c.startupS)).toFixed(2)),
      poolWindowsPerSec: Math.round(poolRate), ratio: Number((cliRate / poolRate).toFixed(2)),
      // Each run pairs a CLI pass with a pool pass under the same load: the median of their ratios is the steadier figure.
      pairedRatio: Number(median(cli.map((c, r) => c.windowsPerSec / poolRates[r])).toFixed(2)),
      cliRuns: cli.map((c) => Math.round(c.windowsPerSec)), poolRuns: poolRates.map(Math.round),
      ...(flags.baseline ? { baseline: { bin: flags.baseline, backend: base[0].backend, windowsPerSec: Math.round(median(base.map((c) => c.windowsPerSec))), wallS: Number(median(base.map((c) => c.wallS)).toFixed(2)), runs: base.map((c) => Math.round(c.windowsPerSec)) } } : {}),
      machine: { cpus: os.availableParallelism(), node: process.version, loadAvgStart: loadStart.map((x) => Number(x.toFixed(2))), loadAvgEnd: os.loadavg().map((x) => Number(x.toFixed(2))) },
    };
    if (flags.json) {
      console.log(JSON.stringify(result));
      return;
    }
    console.log(`${result.windows} windows of ${flags.file} (first ${flags.rows} rows), backend ${result.backend.pool} (${result.conv}), ${result.workers} workers, medians of ${RUNS} runs`);
    console.log('| | windows/s | wall s | runs |');
    console.log('|---|---:|---:|---|');
    console.log(`| \`diffwatch score\` (start-up ${result.cliStartupS} s) | ${result.cliWindowsPerSec} | ${result.cliWallS} | ${result.cliRuns.join(', ')} |`);
    if (result.baseline) console.log(`| baseline \`${result.baseline.bin}\` (${result.baseline.backend}) | ${result.baseline.windowsPerSec} | ${result.baseline.wallS} | ${result.baseline.runs.join(', ')} |`);
    console.log(`| pool \`score()\` | ${result.poolWindowsPerSec} | | ${result.poolRuns.join(', ')} |`);
    console.log(`ratio of the medians ${result.ratio}, median of the paired ratios ${result.pairedRatio}; load average ${result.machine.loadAvgStart.join(' ')} at the start, ${result.machine.loadAvgEnd.join(' ')} at the end`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
