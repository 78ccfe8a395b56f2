/** `diffwatch` as a whole: help, usage errors and their exit codes, and a --help that loads no heavy module. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { setLogSink } from '../../../src/log.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

describe('diffwatch main', () => {
  let out = '';
  let err = '';
  let restoreSink: ReturnType<typeof setLogSink>;
  beforeEach(() => {
    out = '';
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
    restoreSink = setLogSink(() => {});
  });
  afterEach(() => {
    vi.restoreAllMocks();
    setLogSink(restoreSink);
  });

  it('lists every command and the exit codes, with no arguments as with --help', async () => {
    expect(await main([])).toBe(0);
    const bare = out;
    out = '';
    expect(await main(['--help'])).toBe(0);
    expect(out).toBe(bare);
    for (const name of ['stack', 'run', 'replay', 'train', 'score', 'inspect', 'top', 'eval']) expect(out).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(out).toMatch(/Exit codes:\n {2}0 {2}ok\n {2}1 {2}a diffwatch error[^\n]*\n {2}2 {2}a usage error[^\n]*\n {2}3 {2}diffwatch stack status[^\n]*\n {2}130 {2}diffwatch run: a second SIGINT[^\n]*\n {2}143 {2}diffwatch run: a second SIGTERM/);
  });

  it('gives each command its options and examples', async () => {
    for (const argv of [['stack'], ['run'], ['replay'], ['train'], ['score'], ['inspect'], ['top'], ['eval'], ['eval', 'nab'], ['eval', 'synthetic'], ['eval', 'nab-score']]) {
      out = '';
      expect(await main([...argv, '--help'])).toBe(0);
      expect(out).toContain(`Usage: diffwatch ${argv.join(' ')} `);
      expect(out, argv.join(' ')).toContain('\nExamples:\n  diffwatch ');
    }
  });

  it('exits 2 on an unknown command, an unknown flag, a missing flag value or a bad number', async () => {
    expect(await main(['trian'])).toBe(2);
    expect(err).toContain("error: unknown command 'trian'\n(Did you mean train?)");
    expect(await main(['score', '--modle', 'm'])).toBe(2);
    expect(err).toContain("error: unknown option '--modle'\n(Did you mean --model?)");
    expect(err).toContain('(run `diffwatch score --help` for usage and examples)');
    expect(await main(['train', '--out'])).toBe(2);
    expect(err).toContain("error: option '--out <dir>' argument missing");
    err = '';
    expect(await main(['eval', 'synthetic', '--seed', 'x'])).toBe(2);
    expect(err).toBe('diffwatch eval synthetic: config --seed: must be a number, got x\n');
  });

  it('exits 1 on a diffwatch error, printed with the command', async () => {
    expect(await main(['score', '--model', join(tmpdir(), 'no-such-model'), '--file', 'f.csv', '--out', 'o.csv', '--backend', 'cpu'])).toBe(1);
    expect(err).toMatch(/^diffwatch score: .*no-such-model/);
  });

  it('loads neither TensorFlow.js nor kafkajs, influx, zod, cli-progress, ink or React for --help', () => {
    // A module resolve hook prints every package the CLI resolves.
    const dir = mkdtempSync(join(tmpdir(), 'diffwatch-help-'));
    writeFileSync(join(dir, 'hooks.mjs'), "export async function resolve(s, c, next) { const r = await next(s, c); const m = /node_modules\\/((@[^/]+\\/)?[^/]+)/.exec(r.url); if (m) console.error('resolved ' + m[1]); return r; }\n");
    writeFileSync(join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
    const r = spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), join(ROOT, 'bin/diffwatch.js'), '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: diffwatch <command>');
    const resolved = new Set(r.stderr.split('\n').filter((l) => l.startsWith('resolved ')).map((l) => l.slice(9)));
    expect(resolved).toContain('commander'); // the hook works
    for (const heavy of ['@tensorflow', 'kafkajs', 'influx', 'zod', 'cli-progress', 'rxjs', 'ink', 'react']) expect(resolved).not.toContain(heavy);
  });
});
