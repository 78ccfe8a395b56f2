import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StackError } from '../../../src/errors.ts';
import { withStackLock } from '../../../src/stack/stackLock.ts';

const lockPath = () => join(mkdtempSync(join(tmpdir(), 'dw-lock-')), 'run', 'stack.lock');

describe('withStackLock', () => {
  it('holds the lock while the body runs and releases it afterwards, also on failure', async () => {
    const file = lockPath();
    await withStackLock(file, 1_000, async () => expect(existsSync(file)).toBe(true));
    expect(existsSync(file)).toBe(false);
    await expect(withStackLock(file, 1_000, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(file)).toBe(false);
  });

  it('runs bodies one at a time', async () => {
    const file = lockPath();
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = withStackLock(file, 5_000, async () => {
      events.push('first in');
      await gate;
      events.push('first out');
    });
    const second = withStackLock(file, 5_000, async () => void events.push('second in'));
    // The first took the lock synchronously; the second can only get it after the first body ends.
    release();
    await Promise.all([first, second]);
    expect(events).toEqual(['first in', 'first out', 'second in']);
  });

  it('takes over a lock left by a dead process', async () => {
    const file = lockPath();
    await withStackLock(file, 1_000, async () => undefined); // creates the folder
    const dead = Number(spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim());
    writeFileSync(file, `${dead}\n`);
    let ran = false;
    await withStackLock(file, 2_000, async () => void (ran = true));
    expect(ran).toBe(true);
  });

  it('fails with a StackError naming the holder when a live process keeps it', async () => {
    const file = lockPath();
    await withStackLock(file, 1_000, async () => undefined);
    writeFileSync(file, `${process.ppid}\n`); // alive for the whole test
    const err = await withStackLock(file, 100, async () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackError);
    expect((err as Error).message).toContain(`pid ${process.ppid}`);
  });
});
