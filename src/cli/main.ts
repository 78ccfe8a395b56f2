/**
 * The `diffwatch` command line. Each command lives in its own module, loaded lazily
 * so that `diffwatch --help` starts fast and never loads TensorFlow.js or kafkajs.
 */
import { DiffwatchError } from '../errors.ts';
import { rootLogger } from '../log.ts';
import type { Command } from './command.ts';
import { parseArgs } from './parseArgs.ts';

export type { Command } from './command.ts';

type Loader = () => Promise<Command>;

const COMMANDS: Record<string, Loader> = {
  stack: async () => (await import('./stackCommand.ts')).stackCommand,
  run: async () => (await import('./runCommand.ts')).runCommand,
  replay: async () => (await import('./replayCommand.ts')).replayCommand,
  train: async () => (await import('./trainCommand.ts')).trainCommand,
  score: async () => (await import('./scoreCommand.ts')).scoreCommand,
  inspect: async () => (await import('./inspectCommand.ts')).inspectCommand,
  eval: async () => (await import('./evalCommand.ts')).evalCommand,
};

async function help(): Promise<string> {
  const lines = ['diffwatch: streaming time-series anomaly detection with a diffusion model', '', 'Usage: diffwatch <command> [options]', '', 'Commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    try {
      const cmd = await load();
      lines.push(`  ${name.padEnd(8)} ${cmd.summary}`);
    } catch {
      // A command whose module is missing is simply not listed.
    }
  }
  lines.push('', 'Run `diffwatch <command> --help` for the options of one command.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write((await help()) + '\n');
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`diffwatch: unknown command "${name}"\n\n${await help()}\n`);
    return 2;
  }
  const cmd = await load();
  const args = parseArgs(rest);
  if (args.flags.help === true || args.flags.h === true) {
    process.stdout.write(`${cmd.summary}\n\n${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run(args);
  } catch (e) {
    if (e instanceof DiffwatchError) {
      rootLogger.error(e.message, { ...e.toJSON() });
      process.stderr.write(`diffwatch ${name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
