/**
 * Detached service processes and their pid files.
 * A pid file holds one decimal pid. A pid is only trusted when that process is alive (not a zombie)
 * and its command line still contains the service's marker, so a recycled pid is never signalled.
 */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { waitFor } from './waitFor.ts';

/** Parse the text of a pid file; undefined when it does not hold one positive integer. */
export function parsePid(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const pid = Number(t);
  return pid > 0 && Number.isSafeInteger(pid) ? pid : undefined;
}

export function readPidFile(file: string): number | undefined {
  try {
    return parsePid(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function writePidFile(file: string, pid: number): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${pid}\n`);
}

export function removePidFile(file: string): void {
  rmSync(file, { force: true });
}

/** Alive and not a zombie. A zombie still answers kill(pid, 0), so /proc decides on Linux. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name, is the state.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return process.platform !== 'linux';
  }
}

/** The process's command line, NUL separators turned into spaces; '' when unknown. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/**
 * The pid recorded in `pidFile` if it is a live process of this service (its command line holds `marker`).
 * A stale file (dead or recycled pid) is removed.
 */
export function liveServicePid(pidFile: string, marker: string): number | undefined {
  const pid = readPidFile(pidFile);
  if (pid === undefined) return undefined;
  const cmd = commandLine(pid);
  if (isAlive(pid) && (cmd === '' ? process.platform !== 'linux' : cmd.includes(marker))) return pid;
  removePidFile(pidFile);
  return undefined;
}

export interface SpawnedService {
  pid: number;
  /** Set once the process has exited; lets readiness waits fail fast instead of running out the clock. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

/**
 * Start `command` in its own session, stdout and stderr appended to `logFile`, and record its pid.
 * The child outlives this process (detached, unref'd).
 */
export function spawnDetached(command: string, args: string[], opts: { cwd: string; logFile: string; pidFile: string; env?: NodeJS.ProcessEnv }): SpawnedService {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.once('exit', (code, signal) => {
      exit = { code, signal };
    });
    child.unref();
    writePidFile(opts.pidFile, child.pid);
    return { pid: child.pid, exited: () => exit };
  } finally {
    closeSync(fd);
  }
}

/**
 * SIGTERM, wait up to `graceMs` for the exit, then SIGKILL and wait again.
 * Resolves once the process is gone; the pid file is removed.
 */
export async function stopProcess(pid: number, pidFile: string, graceMs: number): Promise<'terminated' | 'killed' | 'not-running'> {
  if (!isAlive(pid)) {
    removePidFile(pidFile);
    return 'not-running';
  }
  const gone = async () => (isAlive(pid) ? undefined : true);
  process.kill(pid, 'SIGTERM');
  let outcome: 'terminated' | 'killed' = 'terminated';
  try {
    await waitFor(gone, { timeoutMs: graceMs, intervalMs: 200, what: `pid ${pid} to exit after SIGTERM` });
  } catch {
    outcome = 'killed';
    process.kill(pid, 'SIGKILL');
    await waitFor(gone, { timeoutMs: 10_000, intervalMs: 100, what: `pid ${pid} to exit after SIGKILL` });
  }
  removePidFile(pidFile);
  return outcome;
}

/** The last `maxLines` lines of a log file, for error messages; '' if it cannot be read. */
export function tailFile(file: string, maxLines = 20): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    // Logs grow for weeks; read only the end.
    const size = fstatSync(fd).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8').trimEnd().split('\n').slice(-maxLines).join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
