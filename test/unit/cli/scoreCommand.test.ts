import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoreCommand } from '../../../src/cli/scoreCommand.ts';
import { setLogSink } from '../../../src/log.ts';
import { loadCheckpoint, saveCheckpoint } from '../../../src/model/checkpoint.ts';
import { train } from '../../../src/model/trainer.ts';
import { scoreWindows } from '../../../src/model/windowScorer.ts';
import { gatherWindows, windowStarts, windowTimestamps } from '../../../src/model/windows.ts';
import { createDiffusionScorer } from '../../../src/modelOps/diffusionScorer.ts';
import type { Window } from '../../../src/types.ts';
import { captureLogger, useBackend } from '../model/helpers.ts';
import { runCli } from './captureRun.ts';

const L = 16;
const N = 120;
const temp = Array.from({ length: N }, (_, i) => 20 + 5 * Math.sin(i / 3));
const load = Array.from({ length: N }, (_, i) => (i % 5) * 0.5);

describe('diffwatch score', () => {
  let dir: string;
  let modelDir: string;
  let csv: string;
  let restoreSink: (line: string) => void;

  beforeAll(async () => {
    await useBackend('wasm');
    dir = await mkdtemp(join(tmpdir(), 'diffwatch-score-'));
    modelDir = join(dir, 'model');
    const timestamps = Float64Array.from({ length: 300 }, (_, i) => i * 60_000);
    const values = new Float64Array(600);
    for (let i = 0; i < 300; i++) [values[2 * i], values[2 * i + 1]] = [20 + 5 * Math.sin(i / 3), (i % 5) * 0.5];
    const model = await train({ values, channels: ['temp', 'load'], timestamps }, { windowLength: L, width: 8, depth: 2, embedDim: 8, T: 50, t0: 15, epochs: 1, stride: 2 });
    await saveCheckpoint(modelDir, model);
    model.dispose();
    // Columns in another order, plus one the model does not use.
    csv = join(dir, 'in.csv');
    await writeFile(csv, ['timestamp,load,extra,temp', ...temp.map((t, i) => `2024-01-01 0${Math.floor(i / 60)}:${String(i % 60).padStart(2, '0')}:00,${load[i]},7,${t}`)].join('\n') + '\n');
    restoreSink = setLogSink(() => {});
    // The scoring workers log on their own; they read the level from the environment they start with.
    process.env.DIFFWATCH_LOG_LEVEL = 'warn';
  });
  afterAll(async () => {
    delete process.env.DIFFWATCH_LOG_LEVEL;
    setLogSink(restoreSink);
    await rm(dir, { recursive: true, force: true });
  });

  const readCsv = async (f: string) => (await readFile(f, 'utf8')).trimEnd().split('\n').map((l) => l.split(','));

  it('writes one row per input row: empty before the first full window, then the scoreWindows score of the window ending there', async () => {
    const out = join(dir, 'scores.csv');
    expect(await runCli(scoreCommand, ['--model', modelDir, '--file', csv, '--out', out, '--batch', '7', '--backend', 'wasm'])).toBe(0);
    const rows = await readCsv(out);
    expect(rows[0]).toEqual(['timestamp', 'score']);
    expect(rows).toHaveLength(N + 1);
    expect(rows[1][0]).toBe('2024-01-01 00:00:00'); // the timestamp exactly as written
    expect(rows.slice(1, L).every((r) => r[1] === '')).toBe(true);
    // The same numbers as scoring the windows directly, in the model's channel order.
    const model = await loadCheckpoint(modelDir);
    const values = Float64Array.from(temp.flatMap((t, i) => [t, load[i]]));
    const starts = windowStarts(N, L, 1);
    // The CSV's own times (2024-01-01 00:00 plus a minute a row): the model takes calendar features.
    const times = Float64Array.from({ length: N }, (_, i) => Date.UTC(2024, 0, 1) + i * 60_000);
    const want = scoreWindows(model, gatherWindows(values, 2, L, starts), starts.length, { timestamps: windowTimestamps(times, L, starts) }).windowScores;
    model.dispose();
    // Written with 6 significant digits: equal to a relative 1e-5.
    starts.forEach((s, w) => expect(Math.abs(Number(rows[s + L][1]) - want[w])).toBeLessThanOrEqual(1e-5 * Math.abs(want[w])));
    expect(Number(rows[L][1])).toBeGreaterThan(0);
  });

  it('writes exactly what the streaming path scores: the worker pool\'s score() of the same windows, whatever the workers and batch', async () => {
    const out1 = join(dir, 'w1.csv');
    const out2 = join(dir, 'w2.csv');
    expect(await runCli(scoreCommand, ['--model', modelDir, '--file', csv, '--out', out1, '--workers', '1', '--batch', '5', '--backend', 'wasm'])).toBe(0);
    expect(await runCli(scoreCommand, ['--model', modelDir, '--file', csv, '--out', out2, '--workers', '2', '--backend', 'wasm'])).toBe(0);
    expect(await readFile(out1, 'utf8')).toBe(await readFile(out2, 'utf8'));
    // The service's windows: the model's channel order, the CSV's own times.
    const starts = windowStarts(N, L, 1);
    const windows: Window[] = starts.map((s) => ({
      entityId: 'csv', channels: ['temp', 'load'], length: L, startTime: 0, endTime: 0, hasGap: false, sources: [], releases: [],
      timestamps: Float64Array.from({ length: L }, (_, i) => Date.UTC(2024, 0, 1) + (s + i) * 60_000),
      values: Float32Array.from({ length: L * 2 }, (_, k) => (k % 2 === 0 ? temp : load)[s + Math.floor(k / 2)]),
    }));
    const pool = await createDiffusionScorer({ modelDir, workers: 2, backend: 'wasm', log: captureLogger(), workerLogLevel: 'warn' });
    try {
      const streamed = await pool.score(windows);
      const rows = await readCsv(out1);
      starts.forEach((s, w) => expect(rows[s + L][1]).toBe(String(Number(streamed[w].score.toPrecision(6)))));
    } finally {
      await pool.close();
    }
  });

  it('refuses a --workers or --batch that is not a positive integer (CONFIG_INVALID)', async () => {
    await expect(runCli(scoreCommand, ['--model', modelDir, '--file', csv, '--out', join(dir, 'o.csv'), '--workers', '0'])).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('--workers') });
    await expect(runCli(scoreCommand, ['--model', modelDir, '--file', csv, '--out', join(dir, 'o.csv'), '--batch', '1.5'])).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('--batch') });
  });

  it('adds the reconstruction of each row in raw units with --reconstruction', async () => {
    const out = join(dir, 'recon.csv');
    await runCli(scoreCommand, ['--model', modelDir, '--file', csv, '--out', out, '--reconstruction', '--backend', 'wasm']);
    const rows = await readCsv(out);
    expect(rows[0]).toEqual(['timestamp', 'score', 'recon_temp', 'recon_load']);
    expect(rows[1]).toEqual(['2024-01-01 00:00:00', '', '', '']);
    const last = rows[N];
    expect(Math.abs(Number(last[2]) - temp[N - 1])).toBeLessThan(5); // temp swings ±5 around 20
    expect(Number.isFinite(Number(last[3]))).toBe(true);
  });

  it('refuses a CSV without the model\'s channels (MODEL_MISMATCH) and a missing model (MODEL_NOT_FOUND)', async () => {
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'timestamp,temp\n1,2\n');
    await expect(runCli(scoreCommand, ['--model', modelDir, '--file', bad, '--out', join(dir, 'o.csv'), '--backend', 'wasm'])).rejects.toMatchObject({ code: 'MODEL_MISMATCH', message: expect.stringContaining('lacks the model\'s channels [load]') });
    await expect(runCli(scoreCommand, ['--model', modelDir, '--file', join(dir, 'absent.csv'), '--out', join(dir, 'o.csv'), '--backend', 'wasm'])).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(runCli(scoreCommand, ['--model', join(dir, 'none'), '--file', csv, '--out', join(dir, 'o.csv'), '--backend', 'wasm'])).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });
});
