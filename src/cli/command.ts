/**
 * What every `diffwatch` command module exports: main.ts loads one lazily by name and runs it.
 * Apart from main.ts so that the command modules do not import the file that imports them.
 *
 * Example:
 *   export const versionCommand: Command = { summary: 'print the version', usage: 'diffwatch version', run: async () => 0 };
 */
import type { ParsedArgs } from './parseArgs.ts';

export interface Command {
  summary: string;
  usage: string;
  run(args: ParsedArgs): Promise<number>;
}
