/** Run a CLI command in-process, as `diffwatch <name> ...argv` would, and capture what it writes to stdout. */
import { vi } from 'vitest';
import { execute, program, type Command } from '../../../src/cli/command.ts';

/**
 * The exit code of `diffwatch <command> ...argv`, run in-process. DiffwatchErrors reject (the
 * binary prints them); usage errors resolve to 2 after commander has printed them.
 */
export function runCli(command: () => Command, argv: string[]): Promise<number> {
  const cmd = command();
  return execute(program(cmd), [cmd.name(), ...argv]);
}

export async function captureRun(command: () => Command, argv: string[]): Promise<{ rc: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    return { rc: await runCli(command, argv), out };
  } finally {
    spy.mockRestore();
  }
}
