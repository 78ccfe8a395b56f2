/**
 * The `diffwatch` command line: one commander command per module, assembled here. The command
 * modules import TensorFlow.js, kafkajs, InfluxDB and the config schema inside their actions, so
 * `diffwatch --help` loads none of them.
 */
import { DiffwatchError } from '../errors.ts';
import { rootLogger } from '../log.ts';
import { Command, commandPath, execute, exitCodeOf, program } from './command.ts';
import { evalCommand } from './evalCommand.ts';
import { inspectCommand } from './inspectCommand.ts';
import { replayCommand } from './replayCommand.ts';
import { runCommand } from './runCommand.ts';
import { scoreCommand } from './scoreCommand.ts';
import { stackCommand } from './stackCommand.ts';
import { topCommand } from './topCommand.ts';
import { trainCommand } from './trainCommand.ts';

export function diffwatchProgram(): Command {
  return program(stackCommand(), runCommand(), replayCommand(), trainCommand(), scoreCommand(), inspectCommand(), topCommand(), evalCommand());
}

/** Runs one command line (without node and the script); resolves to the exit code (command.ts EXIT). */
export async function main(argv: readonly string[]): Promise<number> {
  const root = diffwatchProgram();
  try {
    return await execute(root, argv.length === 0 ? ['--help'] : argv);
  } catch (e) {
    if (!(e instanceof DiffwatchError)) throw e;
    rootLogger.error(e.message, { ...e.toJSON() });
    process.stderr.write(`${commandPath(root, argv)}: ${e.message}\n`);
    return exitCodeOf(e);
  }
}
