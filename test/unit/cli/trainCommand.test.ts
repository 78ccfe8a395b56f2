import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { trainCommand } from '../../../src/cli/trainCommand.ts';
import { ConfigError } from '../../../src/errors.ts';
import { setLogSink } from '../../../src/log.ts';
import { runCli } from './captureRun.ts';

const TINY = ['--window', '16', '--width', '8', '--depth', '2', '--embed', '8', '--T', '50', '--t0', '15', '--epochs', '2', '--stride', '2', '--backend', 'wasm'];

describe('diffwatch train --file', () => {
  let dir: string;
  let csv: string;
  let stdout: string;
  let logs: Record<string, unknown>[];
  let restoreSink: (line: string) => void;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffwatch-train-'));
    csv = join(dir, 'series.csv');
    const rows = Array.from({ length: 300 }, (_, i) => `${1_700_000_000_000 + i * 60_000},${(20 + 5 * Math.sin(i / 3)).toFixed(4)},${(i % 5) * 0.5},${i}`);
    await writeFile(csv, ['timestamp,temp,load,counter', ...rows].join('\n') + '\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const run = async (argv: string[]) => {
    stdout = '';
    logs = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
    restoreSink = setLogSink((line) => void logs.push(JSON.parse(line)));
    return runCli(trainCommand, argv);
  };
  afterEach(() => {
    vi.restoreAllMocks();
    setLogSink(restoreSink);
  });

  it('trains on the chosen columns, writes a checkpoint and prints the version and validation quantiles', async () => {
    const out = join(dir, 'model');
    expect(await run(['--file', csv, '--columns', 'load,temp', '--out', out, '--seed', '5', '--json', ...TINY])).toBe(0);
    const summary = JSON.parse(stdout);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(summary.version).toBe(manifest.version);
    expect(manifest.channels).toEqual(['load', 'temp']);
    expect(manifest).toMatchObject({ windowLength: 16, seed: 5, t0: 15, denoiser: { width: 8, depth: 2, channels: 2 }, schedule: { T: 50 } });
    expect(summary.validationScores).toEqual(manifest.validationScores);
    expect(summary.validationScores.p99).toBeGreaterThanOrEqual(summary.validationScores.p50);
    // Off a TTY, progress is one structured line per epoch.
    expect(logs.filter((l) => l.msg === 'training epoch').map((l) => l.epoch)).toEqual([1, 2]);
  });

  it('prints a human summary by default', async () => {
    await run(['--file', csv, '--columns', 'temp', '--out', join(dir, 'human'), ...TINY]);
    expect(stdout).toMatch(/^model [0-9a-f]{16} written to /);
    expect(stdout).toMatch(/validation window scores \(\d+ windows\): p50 \S+  p90 \S+  p95 \S+  p99 \S+  p99\.9 \S+  max \S+/);
  });

  it('names the channels it judges by their shape alone (their level trended through a week of rows), and those whose level it tests against that trend', async () => {
    const weekCsv = join(dir, 'week.csv');
    // 8 days of 5-minute rows: a disk that fills, beside a temperature that only cycles.
    const rows = Array.from({ length: 8 * 288 }, (_, i) => `${1_700_000_000_000 + i * 300_000},${(40 + 0.01 * i + Math.sin(i / 20)).toFixed(4)},${(20 + 5 * Math.sin(i / 3)).toFixed(4)}`);
    await writeFile(weekCsv, ['timestamp,disk,temp', ...rows].join('\n') + '\n');
    await run(['--file', weekCsv, '--out', join(dir, 'week-json'), '--json', ...TINY]);
    expect(JSON.parse(stdout)).toMatchObject({ trendCentred: ['disk'], levelAgainstTrend: ['disk'] });
    await run(['--file', weekCsv, '--out', join(dir, 'week-human'), ...TINY]);
    expect(stdout).toContain('judged by their shape alone, their level having trended through the fit: disk');
    expect(stdout).toContain('their level tested against a trend certain enough to extrapolate: disk');
    await run(['--file', csv, '--columns', 'temp', '--out', join(dir, 'no-trend'), '--json', ...TINY]);
    expect(JSON.parse(stdout).trendCentred).toBeUndefined();
    expect(JSON.parse(stdout).levelAgainstTrend).toBeUndefined();
  });

  it('takes hyper-parameters from the config file\'s model section, flags winning', async () => {
    const cfgFile = join(dir, 'config.json');
    await writeFile(cfgFile, JSON.stringify({ model: { width: 6, draws: 3, epochs: 9 }, log: { level: 'info' } }));
    const out = join(dir, 'from-config');
    await run(['--file', csv, '--columns', 'temp', '--out', out, '--config', cfgFile, ...TINY]);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.denoiser.width).toBe(8); // --width 8 beats the file's 6
    expect(manifest.draws).toBe(3);
    expect(manifest.training.epochs).toBe(2);
  });

  it('fails fast on missing or contradictory flags and on a bad hyper-parameter', async () => {
    await expect(run(['--file', csv])).rejects.toThrow(/--out: is required/);
    await expect(run(['--file', csv, '--topic', 't', '--out', join(dir, 'x')])).rejects.toThrow(/exactly one of --file/);
    await expect(run(['--file', csv, '--out', join(dir, 'x'), '--t0', '60', '--T', '50'])).rejects.toThrow(ConfigError);
    await expect(run(['--topic', 't', '--entity', 'm-1', '--from', 'yesterday', '--to', '2024-01-01', '--out', join(dir, 'x')])).rejects.toThrow(/--from: must be epoch ms or an ISO date-time/);
  });
});
