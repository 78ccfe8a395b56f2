/** Tiny synthetic NAB corpora for the scorer's tests. */
import type { CostMatrix, DetectorFile, DetectorResults } from '../../../../src/eval/nab/index.ts';

export const STANDARD: CostMatrix = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1, tnWeight: 1 };

const T0 = Date.UTC(2014, 3, 10, 0, 0, 0);
const STEP_MS = 5 * 60_000;

/** `2014-04-10 00:05:00.000000` for row 1: NAB's label spelling of row i's timestamp. */
export function labelTime(i: number): string {
  return new Date(T0 + i * STEP_MS).toISOString().replace('T', ' ').replace('Z', '000');
}

/** The data-file spelling of row i's timestamp, `2014-04-10 00:05:00`. */
export function dataTime(i: number): string {
  return new Date(T0 + i * STEP_MS).toISOString().replace('T', ' ').slice(0, 19);
}

export interface FileSpec {
  scores: number[];
  /** Windows as [first row, last row]. */
  windows?: [number, number][];
  path?: string;
}

/** A detector's results over synthetic files with 5-minute rows. */
export function makeResults(specs: FileSpec[], detector = 'synthetic'): DetectorResults {
  const files: DetectorFile[] = specs.map((s, k) => ({
    path: s.path ?? `synthetic/file_${k}.csv`,
    timestamps: Float64Array.from(s.scores, (_, i) => T0 + i * STEP_MS),
    scores: Float64Array.from(s.scores),
    windows: (s.windows ?? []).map(([a, b]) => [labelTime(a), labelTime(b)] as const),
  }));
  return { detector, files, labelWindowCount: files.reduce((n, f) => n + f.windows.length, 0) };
}

/** Scores of `rows` zeros with 1 at the given rows. */
export function detections(rows: number, at: number[]): number[] {
  const s = new Array<number>(rows).fill(0);
  for (const i of at) s[i] = 1;
  return s;
}

/**
 * NAB's scaled sigmoid written independently: 2σ(-5y) - 1 = -tanh(5y/2), and -1 beyond y = 3.
 * Tests compute expected scores with this, not with the code under test.
 */
export function curve(y: number): number {
  return y > 3 ? -1 : -Math.tanh(2.5 * y);
}
