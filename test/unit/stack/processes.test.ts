import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, liveServicePid, parsePid, readPidFile, tailFile, writePidFile } from '../../../src/stack/processes.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'dw-proc-'));

/** A pid that certainly belongs to no live process: a child that has already exited and been reaped. */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

describe('pid files', () => {
  it('parses one positive integer and rejects anything else', () => {
    expect(parsePid('1234\n')).toBe(1234);
    expect(parsePid('  77 ')).toBe(77);
    for (const bad of ['', '0', '-5', '12a', '1 2', '1.5', 'abc']) expect(parsePid(bad)).toBeUndefined();
  });

  it('round-trips through write and read, creating the folder', () => {
    const file = join(tmp(), 'run', 'x.pid');
    writePidFile(file, 4321);
    expect(readFileSync(file, 'utf8')).toBe('4321\n');
    expect(readPidFile(file)).toBe(4321);
    expect(readPidFile(join(tmp(), 'missing.pid'))).toBeUndefined();
  });

  it('trusts a live pid whose command line holds the marker', () => {
    const file = join(tmp(), 'self.pid');
    writePidFile(file, process.pid);
    expect(liveServicePid(file, 'node')).toBe(process.pid);
    expect(existsSync(file)).toBe(true);
  });

  it('drops a pid file whose process is gone', () => {
    const file = join(tmp(), 'dead.pid');
    const pid = deadPid();
    expect(isAlive(pid)).toBe(false);
    writePidFile(file, pid);
    expect(liveServicePid(file, 'node')).toBeUndefined();
    expect(existsSync(file)).toBe(false);
  });

  it('drops a pid file whose pid was recycled by another program', () => {
    const file = join(tmp(), 'recycled.pid');
    writePidFile(file, process.pid); // alive, but this is vitest, not a broker
    expect(liveServicePid(file, 'kafka.Kafka')).toBeUndefined();
    expect(existsSync(file)).toBe(false);
  });

  it('drops a pid file with garbage in it', () => {
    const file = join(tmp(), 'garbage.pid');
    writeFileSync(file, 'not a pid');
    expect(liveServicePid(file, 'node')).toBeUndefined();
  });
});

describe('tailFile', () => {
  it('returns the last lines only, and empty for a missing file', () => {
    const file = join(tmp(), 'x.log');
    writeFileSync(file, Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n') + '\n');
    expect(tailFile(file, 3)).toBe('line 47\nline 48\nline 49');
    expect(tailFile(join(tmp(), 'none.log'))).toBe('');
  });
});
