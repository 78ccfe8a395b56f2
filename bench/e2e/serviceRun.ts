/**
 * One `diffwatch run` of the end-to-end benchmark, as a child process: started, sampled through
 * /proc (CPU time, RSS), stopped with SIGTERM and checked to exit 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { DiffwatchError } from '../../src/errors.ts';
import { waitFor } from '../../src/stack/waitFor.ts';
import { sampleProc, type ProcSample } from '../common.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/diffwatch.js');
/** ms the service may take to drain, flush and commit after SIGTERM. */
const STOP_TIMEOUT_MS = 60_000;

export interface ServiceProcess {
  /** CPU time, RSS and peak RSS now; the last sample once the process is gone. */
  sample(): ProcSample;
  /** The tail of its log, for error messages. */
  logTail(): string;
  /** Throws if it has exited. */
  assertAlive(): void;
  /** SIGTERM, then waits for exit code 0. */
  stop(): Promise<void>;
  kill(): void;
}

export function startService(cfgFile: string, env: NodeJS.ProcessEnv, opts: { cpuProfDir?: string; verbose?: boolean }): ServiceProcess {
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, BIN, 'run', '--config', cfgFile], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr = (stderr + d).slice(-100_000);
    if (opts.verbose) process.stderr.write(d);
  });
  let exit: number | null | undefined;
  child.once('exit', (code) => (exit = code));
  let last: ProcSample = { cpuS: 0, rssKiB: 0, peakRssKiB: 0 };
  const fail = (why: string) => new DiffwatchError('BENCH_FAILED', `${why}\n${stderr.slice(-4000)}`);
  return {
    sample: () => (last = sampleProc(child.pid!) ?? last),
    logTail: () => stderr.slice(-4000),
    assertAlive() {
      if (exit !== undefined) throw fail(`the service exited early (code ${exit})`);
    },
    async stop() {
      this.sample();
      child.kill('SIGTERM');
      const code = await waitFor(async () => exit, { timeoutMs: STOP_TIMEOUT_MS, intervalMs: 50, what: 'the service to exit after SIGTERM' });
      if (code !== 0) throw fail(`the service exited with code ${code}`);
    },
    kill: () => {
      if (exit === undefined) child.kill('SIGKILL');
    },
  };
}
