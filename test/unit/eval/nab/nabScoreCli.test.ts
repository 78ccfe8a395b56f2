/** `diffwatch eval nab-score` on a tiny NAB-shaped corpus written to a temporary folder. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { evalCommand } from '../../../../src/cli/evalCommand.ts';
import { captureRun } from '../../cli/captureRun.ts';
import { ConfigError } from '../../../../src/errors.ts';
import { NabError, readDetectorResults } from '../../../../src/eval/nab/index.ts';
import { setLogSink } from '../../../../src/log.ts';
import { curve, dataTime, labelTime } from './helpers.ts';

const PROFILES = {
  standard: { CostMatrix: { tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.11, tnWeight: 1.0 } },
  reward_low_FP_rate: { CostMatrix: { tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.22, tnWeight: 1.0 } },
  reward_low_FN_rate: { CostMatrix: { tpWeight: 1.0, fnWeight: 2.0, fpWeight: 0.11, tnWeight: 1.0 } },
};

let root: string;

/** Writes data + results for one file: 40 rows (6 probationary), scores given per row. */
function writeFile(nab: string, detector: string, name: string, scores: number[], rows = scores.length): void {
  mkdirSync(join(nab, 'data', 'cat'), { recursive: true });
  mkdirSync(join(nab, 'results', detector, 'cat'), { recursive: true });
  const data = ['timestamp,value', ...Array.from({ length: rows }, (_, i) => `${dataTime(i)},${i}`)];
  writeFileSync(join(nab, 'data', 'cat', `${name}.csv`), data.join('\n'));
  const res = ['timestamp,value,anomaly_score,label', ...scores.map((s, i) => `${dataTime(i)},${i},${s},0`)];
  writeFileSync(join(nab, 'results', detector, 'cat', `${detector}_${name}.csv`), res.join('\n') + '\n');
}

/** A corpus of two files with one window each: file a is caught at row 22 (window 20..24), file b has an FP at 30. */
function makeCorpus(): string {
  const nab = mkdtempSync(join(root, 'nab-'));
  mkdirSync(join(nab, 'labels'));
  mkdirSync(join(nab, 'config'));
  writeFileSync(join(nab, 'config', 'profiles.json'), JSON.stringify(PROFILES));
  writeFileSync(
    join(nab, 'labels', 'combined_windows.json'),
    JSON.stringify({ 'cat/a.csv': [[labelTime(20), labelTime(24)]], 'cat/b.csv': [[labelTime(10), labelTime(14)]] }),
  );
  const a = new Array(40).fill(0.1);
  a[22] = 0.9;
  a[23] = 0.8;
  const b = new Array(40).fill(0.2);
  b[30] = 0.7;
  writeFile(nab, 'det', 'a', a);
  writeFile(nab, 'det', 'b', b);
  return nab;
}

const run = (argv: string[]) => captureRun(evalCommand, argv);

describe('diffwatch eval nab-score', () => {
  let restoreLog: ReturnType<typeof setLogSink>;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'diffwatch-nab-'));
    restoreLog = setLogSink(() => {});
  });
  afterAll(() => {
    setLogSink(restoreLog);
    rmSync(root, { recursive: true, force: true });
  });
  afterEach(() => vi.restoreAllMocks());

  it('writes and prints the normalised scores, thresholds, raw scores and window counts', async () => {
    const nab = makeCorpus();
    const outFile = join(root, 'out', 'det.json');
    const { rc, out } = await run(['nab-score', '--nab-dir', nab, '--detector', 'det', '--out', outFile]);
    expect(rc).toBe(0);
    const report = JSON.parse(readFileSync(outFile, 'utf8'));
    // Best: 0.9 catches window a at row 22 (y = -3/5) and nothing else; window b is missed. 0.8 adds row 23,
    // which changes nothing, and on a tie NAB keeps the higher threshold.
    const raw = curve(-3 / 5) / curve(-1) - 1;
    expect(report.profiles.standard.optimised).toMatchObject({ threshold: 0.9, windows: { tp: 1, fn: 1, fp: 0 } });
    expect(report.profiles.standard.optimised.raw).toBeCloseTo(raw, 12);
    expect(report.scores.standard).toBeCloseTo((100 * (raw + 2)) / 4, 10);
    expect(report.scores.reward_low_FN_rate).toBeCloseTo((100 * (curve(-3 / 5) / curve(-1) - 2 + 4)) / 6, 10);
    expect(report.thresholds).toEqual({ standard: 0.9, reward_low_FP_rate: 0.9, reward_low_FN_rate: 0.9 });
    expect(report).toMatchObject({ detector: 'det', files: 2, rows: 80, labelWindows: 2 });
    expect(report.profiles.standard.stored).toBeUndefined(); // no config/thresholds.json
    expect(out).toMatch(/standard\s+optimised\s+\d+\.\d\d/);
    expect(out).toContain(`written to ${outFile}`);
  });

  it('reads a detector folder given as --results and writes next to it by default; --json prints only JSON', async () => {
    const nab = makeCorpus();
    writeFileSync(join(nab, 'config', 'thresholds.json'), JSON.stringify({ det: { standard: { threshold: 0.7, score: -1.5 } } }));
    const detDir = join(nab, 'results', 'det');
    const { rc, out } = await run(['nab-score', '--nab-dir', nab, '--results', detDir, '--detector', 'det', '--json']);
    expect(rc).toBe(0);
    const printed = JSON.parse(out);
    expect(JSON.parse(readFileSync(join(detDir, 'det_nab_scores.json'), 'utf8'))).toEqual(printed);
    // At the stored 0.7 the FP at row 30 of b (16 rows after its window, y = 4) also counts.
    expect(printed.profiles.standard.stored).toMatchObject({ threshold: 0.7, storedRaw: -1.5, windows: { tp: 1, fn: 1, fp: 1 } });
    expect(printed.profiles.standard.stored.raw).toBeCloseTo(curve(-3 / 5) / curve(-1) - 1 - 0.11, 12);
  });

  it('fails with typed errors naming what is wrong', async () => {
    await expect(run(['nab-score', '--detector', 'det'])).rejects.toBeInstanceOf(ConfigError);
    const nab = makeCorpus();
    rmSync(join(nab, 'results', 'det', 'cat', 'det_b.csv'));
    await expect(readDetectorResults({ nabDir: nab, detector: 'det' })).rejects.toMatchObject({ code: 'NAB_NOT_FOUND', coords: { file: expect.stringContaining('det_b.csv') } });
    writeFile(nab, 'det', 'b', new Array(39).fill(0), 40);
    await expect(readDetectorResults({ nabDir: nab, detector: 'det' })).rejects.toMatchObject({ code: 'NAB_LENGTH_MISMATCH' });
    writeFile(nab, 'det', 'b', [...new Array(39).fill(0), 'x' as unknown as number]);
    const bad = readDetectorResults({ nabDir: nab, detector: 'det' });
    await expect(bad).rejects.toBeInstanceOf(NabError);
    await expect(bad).rejects.toMatchObject({ code: 'NAB_INVALID', coords: { row: 41 } });
  });

  it('answers an unknown or missing subcommand with usage and exit code 2', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect((await run(['nab-scoer'])).rc).toBe(2);
    expect(String(err.mock.calls[0][0])).toMatch(/unknown command 'nab-scoer'[\s\S]*nab-score/);
    expect((await run([])).rc).toBe(2);
    expect((await run(['nab-score', '--help'])).out).toContain('--nab-dir');
  });
});
