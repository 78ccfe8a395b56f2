/**
 * In-thread scoring rate of the model's scores on the same windows, in one run: the default
 * imputation score (calendar and profile test), the imputation score without them, and the
 * reconstruction score. Ratios within one run survive a noisy machine; absolute figures do not.
 *
 *   npx tsx bench/scoreVariants.ts [--runs 3] [--windows 4096]
 *
 * Each model is the NAB detector's net (window 32, width 32, depth 3), trained briefly (3 epochs)
 * on the probationary part of data/nab/machine_temperature_system_failure.csv on wasm; scoring
 * speed does not depend on how well it was trained. Prints the median windows/s per score and the
 * load average.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { readCsvSeries } from '../src/ingest/csvSeries.ts';
import { rootLogger } from '../src/log.ts';
import { initBackend } from '../src/model/backend.ts';
import type { ModelConfig } from '../src/model/modelConfig.ts';
import { train } from '../src/model/trainer.ts';
import { scoreWindows } from '../src/model/windowScorer.ts';
import { gatherWindows, windowStarts, windowTimestamps } from '../src/model/windows.ts';

const { values: flags } = parseArgs({ options: { runs: { type: 'string', default: '3' }, windows: { type: 'string', default: '4096' } } });
const RUNS = Number(flags.runs);
const WINDOWS = Number(flags.windows);
const NET: Partial<ModelConfig> = { windowLength: 32, width: 32, depth: 3, stride: 2, epochs: 3, seed: 1 };
const VARIANTS: Record<string, Partial<ModelConfig>> = {
  'imputation (default)': NET,
  'imputation, no calendar or profile test': { ...NET, calendar: false, profileTest: false, fullMaskRate: 0, profileSpan: 1 },
  reconstruction: { ...NET, scoring: 'reconstruction' },
};

await initBackend('wasm', rootLogger.namespace('bench'));
const csv = readCsvSeries('data/nab/machine_temperature_system_failure.csv');
const P = Math.floor(0.15 * csv.timestamps.length);
const series = { values: csv.values.slice(0, P), channels: csv.channels, timestamps: csv.timestamps.slice(0, P) };
const models = await Promise.all(Object.values(VARIANTS).map((v) => train(series, v)));
const starts = windowStarts(csv.timestamps.length, 32, 1, P).slice(0, WINDOWS);
const windows = gatherWindows(csv.values, 1, 32, starts);
const timestamps = windowTimestamps(csv.timestamps, 32, starts);
const rates: number[][] = models.map(() => []);
for (let r = 0; r < RUNS; r++) {
  models.forEach((m, i) => {
    const t0 = performance.now();
    scoreWindows(m, windows, starts.length, { timestamps });
    rates[i].push(starts.length / ((performance.now() - t0) / 1000));
  });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const names = Object.keys(VARIANTS);
const base = median(rates[names.indexOf('reconstruction')]);
for (const [i, name] of names.entries()) {
  const m = median(rates[i]);
  console.log(`${name.padEnd(42)} ${Math.round(m).toString().padStart(6)} windows/s   ${(m / base).toFixed(2)}× reconstruction`);
}
console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${starts.length} windows, median of ${RUNS} runs, one thread (wasm)`);
models.forEach((m) => m.dispose());
