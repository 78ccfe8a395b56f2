/** Run a CLI command in-process and capture what it writes to stdout. */
import { vi } from 'vitest';
import type { Command } from '../../../src/cli/command.ts';
import { parseArgs } from '../../../src/cli/parseArgs.ts';

export async function captureRun(command: Command, argv: string[]): Promise<{ rc: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    return { rc: await command.run(parseArgs(argv)), out };
  } finally {
    spy.mockRestore();
  }
}
