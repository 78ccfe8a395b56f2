/**
 * `diffwatch eval nab` on the committed 3-file NAB sample (data/nab), arranged as a mini corpus;
 * its output is then scored by `diffwatch eval nab-score`, as NAB's own scorer would read it.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evalCommand } from '../../../../../src/cli/evalCommand.ts';
import { captureRun } from '../../../cli/captureRun.ts';
import { ConfigError } from '../../../../../src/errors.ts';
import { setLogSink } from '../../../../../src/log.ts';
import { PROFILES_JSON } from './helpers.ts';

const SAMPLE = resolve(import.meta.dirname, '../../../../../data/nab');

const run = (argv: string[]) => captureRun(evalCommand, argv);

describe('diffwatch eval nab', () => {
  let root: string;
  let nab: string;
  let restoreLog: ReturnType<typeof setLogSink>;
  const logs: string[] = [];

  beforeAll(() => {
    restoreLog = setLogSink((l) => logs.push(l));
    root = mkdtempSync(join(tmpdir(), 'diffwatch-evalnab-'));
    nab = join(root, 'nab');
    mkdirSync(join(nab, 'data', 'realKnownCause'), { recursive: true });
    for (const f of readdirSync(SAMPLE).filter((f) => f.endsWith('.csv'))) symlinkSync(join(SAMPLE, f), join(nab, 'data', 'realKnownCause', f));
    mkdirSync(join(nab, 'labels'));
    writeFileSync(join(nab, 'labels', 'combined_windows.json'), readFileSync(join(SAMPLE, 'windows.json')));
    mkdirSync(join(nab, 'config'));
    writeFileSync(join(nab, 'config', 'profiles.json'), JSON.stringify(PROFILES_JSON));
  });
  afterAll(() => {
    setLogSink(restoreLog);
    rmSync(root, { recursive: true, force: true });
  });

  it('writes results that nab-score reads and scores exactly as summary.json says', async () => {
    const out = join(root, 'out');
    const { rc, out: stdout } = await run(['nab', '--nab-dir', nab, '--out', out, '--files', 'realKnownCause/*', '--report']);
    expect(rc).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.corpus).toMatchObject({ files: 3, complete: true, rows: 22695 + 7267 + 4032, labelWindows: 9 });
    expect(Object.keys(summary.detectors)).toEqual(['baseline', 'windowedGaussian']);
    for (const name of ['baseline', 'windowedGaussian']) {
      expect(readdirSync(join(out, name, 'realKnownCause')).sort()).toEqual([
        `${name}_ambient_temperature_system_failure.csv`,
        `${name}_ec2_request_latency_system_failure.csv`,
        `${name}_machine_temperature_system_failure.csv`,
      ]);
      const scored = await run(['nab-score', '--nab-dir', nab, '--results', out, '--detector', name, '--json', '--out', join(root, `${name}.json`)]);
      expect(scored.rc).toBe(0);
      const report = JSON.parse(scored.out);
      for (const profile of Object.keys(PROFILES_JSON)) {
        expect(report.scores[profile]).toBeCloseTo(summary.detectors[name].scores[profile], 10);
        expect(report.profiles[profile].optimised.windows).toEqual(summary.detectors[name].profiles[profile].windows);
      }
      // Both detectors find something on these files: the scores are not the null detector's.
      expect(summary.detectors[name].scores.standard).toBeGreaterThan(0);
      expect(summary.detectors[name].alerts.scores).toHaveProperty('standard');
    }
    // machine_temperature has rows whose timestamp goes back an hour: dropped as late, and counted.
    expect(summary.detectors.baseline.files.find((f: { path: string }) => f.path.endsWith('machine_temperature_system_failure.csv')).lateRows).toBe(11);
    expect(summary.scoreboard['Numenta HTM']).toMatchObject({ standard: 70.1, source: 'published' });
    expect(stdout).toMatch(/baseline \(ours\)\s+\d+\.\d/);
    expect(stdout).toMatch(/ARTime\s+74\.9\s+65\.1\s+80\.4/);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    // Not a TTY here: one log line per file and detector.
    expect(logs.filter((l) => l.includes('"nab file scored"'))).toHaveLength(6);
  });

  it('refuses an unknown detector and a glob that matches nothing, naming the fix', async () => {
    await expect(run(['nab', '--nab-dir', nab, '--out', join(root, 'x'), '--detectors', 'baseline,nope'])).rejects.toThrow(ConfigError);
    await expect(run(['nab', '--nab-dir', nab, '--out', join(root, 'x'), '--detectors', 'nope'])).rejects.toThrow(/known: baseline, baselineRaw, windowedGaussian/);
    await expect(run(['nab', '--nab-dir', nab, '--out', join(root, 'x'), '--files', 'realTweets/*'])).rejects.toThrow(/matches none of the 3 labelled files/);
    await expect(run(['nab', '--out', join(root, 'x')])).rejects.toThrow(/--nab-dir/);
  });
});
