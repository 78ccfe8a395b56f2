/**
 * A lock file around `up` and `down`, so that two test runs (or a test run and the CLI) starting at
 * the same moment do not both spawn a broker. The file holds the owner's pid; a dead owner's lock is stale.
 */
import { mkdirSync, openSync, closeSync, writeSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { StackError } from '../errors.ts';
import { isAlive, readPidFile } from './processes.ts';
import { waitFor } from './waitFor.ts';

function tryAcquire(file: string): boolean {
  try {
    const fd = openSync(file, 'wx');
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const owner = readPidFile(file);
    // Unreadable or dead owner: the lock is stale. A half-written file (owner undefined) is left one round.
    if (owner !== undefined && owner !== process.pid && !isAlive(owner)) rmSync(file, { force: true });
    return false;
  }
}

/** Run `fn` holding the lock; wait up to `timeoutMs` for another holder to finish. */
export async function withStackLock<T>(file: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(file), { recursive: true });
  try {
    await waitFor(async () => (tryAcquire(file) ? true : undefined), { timeoutMs, intervalMs: 250, what: `the stack lock ${file}` });
  } catch (e) {
    throw new StackError('stack', `another diffwatch stack command (pid ${readPidFile(file) ?? '?'}) holds ${file}; wait for it or delete the file if no such process runs`, e);
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}
