/**
 * The soak end to end on the real stack, for half a minute: `npm run soak` starts the service
 * with the diffusion scorer, produces at a fixed rate, samples, stops the service and writes its
 * samples, summary and PNG. The figures themselves are the 30-minute run's (docs/reliability.md).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERIES, type SoakSample } from '../../../bench/soakTrend.ts';
import { influxUrl, kafkaBrokers } from '../helpers.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

function runSoak(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/soak.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, KAFKA_BROKERS: kafkaBrokers().join(','), INFLUX_URL: influxUrl() },
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((res) => child.on('close', (code) => res({ code, output })));
}

describe('npm run soak', () => {
  it('samples every series of a running diffusion service and writes samples, a summary and the curves', { timeout: 170_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'diffwatch-soak-'));
    // Short windows and cold start, so that the entities may train within the half minute.
    const { code, output } = await runSoak(['--minutes', '0.5', '--sample-s', '2', '--rate', '4', '--window-length', '16', '--cold-windows', '64', '--period-s', '60', '--gc-every-s', '4', '--out', out]);
    expect(code, output.slice(-4_000)).toBe(0);
    const [run] = readdirSync(out);
    const dir = join(out, run);
    const samples = readFileSync(join(dir, 'samples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as SoakSample);
    // The first samples may come before the operator endpoint listens, or before the scoring pool
    // exists (its workers' series are served from its creation on); every sample from the first
    // with the pool's series reads every series.
    const first = samples.findIndex((s) => s.workerHeapTotalBytes != null);
    expect(first, 'a sample with the scoring pool').toBeGreaterThanOrEqual(0);
    const served = samples.slice(first);
    expect(served.length).toBeGreaterThanOrEqual(5);
    for (const s of served) {
      for (const { key } of SERIES) {
        // The live heap is read after a major collection: null until the service's first one.
        if (key === 'heapLiveBytes' && s[key] === null) continue;
        expect(s[key], `${key} at ${new Date(s.t).toISOString()}`).not.toBeNull();
        expect(s[key]).toBeGreaterThanOrEqual(0);
      }
      // A model in a scoring worker holds its weights as tensors.
      if ((s.entitiesScoring ?? 0) > 0) expect(s.tensors).toBeGreaterThan(0);
    }
    // A full collection asked for every 4 s (SIGUSR2) sets the live heap.
    expect(served.some((s) => (s.heapLiveBytes ?? 0) > 1_000_000), 'a live heap read after a major collection').toBe(true);
    expect(served.some((s) => (s.workerHeapTotalBytes ?? 0) > 1_000_000), 'a scoring worker\'s heap').toBe(true);
    const scored = served.map((s) => s.windowsScored ?? 0);
    expect(scored[scored.length - 1]).toBeGreaterThan(scored[0]);
    expect(samples.some((s) => (s.stateTopicBytes ?? 0) > 0)).toBe(true);

    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { serviceExit: number; trends: { key: string; verdict: string }[] };
    expect(summary.serviceExit).toBe(0);
    expect(summary.trends.map((t) => t.key)).toEqual(SERIES.map((s) => s.key));
    expect(existsSync(join(dir, 'soak.png'))).toBe(true);
  });
});
