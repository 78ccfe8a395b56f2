/** Small series and corpora for the harness tests. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CsvSeries } from '../../../../../src/ingest/csvSeries.ts';
import { mulberry32 as rng } from '../../../../../src/random.ts';
export { rng };

export const T0 = Date.UTC(2014, 3, 10, 0, 0, 0);
export const STEP_MS = 5 * 60_000;

/** NAB's data-file spelling of a time, `2014-04-10 00:05:00`. */
export const dataTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
/** NAB's label-file spelling, `2014-04-10 00:05:00.000000`. */
export const labelTime = (ms: number) => `${dataTime(ms)}.000000`;


/** A noisy daily-ish wave with 5-minute rows. */
export function wave(n: number, seed = 1): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => 50 + 10 * Math.sin((2 * Math.PI * i) / 96) + 2 * (r() - 0.5));
}

export function series(values: readonly number[], times?: readonly number[]): CsvSeries {
  const ts = Float64Array.from(values, (_, i) => times?.[i] ?? T0 + i * STEP_MS);
  return { channels: ['value'], timestamps: ts, values: Float64Array.from(values), rawTimestamps: Array.from(ts, dataTime) };
}

export const PROFILES_JSON = {
  standard: { CostMatrix: { tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.11, tnWeight: 1.0 } },
  reward_low_FP_rate: { CostMatrix: { tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.22, tnWeight: 1.0 } },
  reward_low_FN_rate: { CostMatrix: { tpWeight: 1.0, fnWeight: 2.0, fpWeight: 0.11, tnWeight: 1.0 } },
};

export interface MiniFile {
  path: string;
  values: number[];
  /** Label windows as [first row, last row]. */
  windows: [number, number][];
}

/** Writes a NAB-shaped corpus (data/, labels/, config/profiles.json) under `root`; returns its folder. */
export function writeCorpus(root: string, files: MiniFile[]): string {
  const nab = mkdtempSync(join(root, 'nab-'));
  const labels: Record<string, string[][]> = {};
  for (const f of files) {
    mkdirSync(join(nab, 'data', f.path, '..'), { recursive: true });
    writeFileSync(join(nab, 'data', f.path), ['timestamp,value', ...f.values.map((v, i) => `${dataTime(T0 + i * STEP_MS)},${v}`)].join('\n') + '\n');
    labels[f.path] = f.windows.map(([a, b]) => [labelTime(T0 + a * STEP_MS), labelTime(T0 + b * STEP_MS)]);
  }
  mkdirSync(join(nab, 'labels'));
  mkdirSync(join(nab, 'config'));
  writeFileSync(join(nab, 'labels', 'combined_windows.json'), JSON.stringify(labels));
  writeFileSync(join(nab, 'config', 'profiles.json'), JSON.stringify(PROFILES_JSON));
  return nab;
}
