/**
 * What the `diffwatch` command modules share: the root program, the exit codes, running a
 * command line, and flag parsers. Apart from main.ts so that the command modules do not import
 * the file that imports them. Built on commander (https://github.com/tj/commander.js).
 *
 * Example:
 *   const code = await execute(program(scoreCommand()), ['score', '--model', 'models/m1', ...]);
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, DiffwatchError } from '../errors.ts';

export { Command } from 'commander';

/** Exit codes of `diffwatch`; `stack status` adds EXIT_UNHEALTHY (3). */
export const EXIT = {
  ok: 0,
  /** A diffwatch error (its message and code on stderr), or an unexpected one (with a stack trace). */
  error: 1,
  /** Usage: an unknown command or flag, a missing or bad flag value. */
  usage: 2,
  /** `run`: a second SIGINT while draining (128 + 2, the shell's convention); nothing more is flushed or committed. */
  sigint: 130,
  /** `run`: a second SIGTERM while draining (128 + 15); nothing more is flushed or committed. */
  sigterm: 143,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  a diffwatch error: the message and its code (e.g. MODEL_NOT_FOUND, SINK_UNAVAILABLE) on stderr
  2  a usage error: an unknown command or flag, a missing or bad flag value (CONFIG_INVALID naming the --flag)
  3  diffwatch stack status: a service is not healthy
  130  diffwatch run: a second SIGINT while draining; it exits at once, without flushing or committing
  143  diffwatch run: a second SIGTERM while draining; it exits at once, without flushing or committing`;

/** The `diffwatch` root command holding `commands`. */
export function program(...commands: Command[]): Command {
  const root = new Command('diffwatch')
    .description('streaming time-series anomaly detection with a diffusion model')
    .usage('<command> [options]')
    .addHelpText('after', `\nRun \`diffwatch <command> --help\` for the options and examples of one command.\n${EXIT_CODES_HELP}\n`);
  for (const c of commands) root.addCommand(c);
  return root;
}

/** Exit codes returned by actions, per root command (commander ignores an action's result). */
const exitCodes = new WeakMap<Command, number>();

const rootOf = (cmd: Command): Command => (cmd.parent ? rootOf(cmd.parent) : cmd);

/**
 * Wraps an action that returns its exit code. Commander passes the command last.
 *
 * Example: `.action(withExitCode(async (flags: Flags) => (await healthy(flags)) ? 0 : 3))`
 */
export function withExitCode<A extends unknown[]>(fn: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args) => {
    exitCodes.set(rootOf(args[args.length - 1] as Command), await fn(...args));
  };
}

/** Commander settings that `addCommand` does not pass down: throw instead of exiting, point to --help. */
function configure(cmd: Command): void {
  cmd.exitOverride().showHelpAfterError(`(run \`${commandPath(rootOf(cmd), ancestry(cmd))} --help\` for usage and examples)`);
  for (const sub of cmd.commands) configure(sub);
}

const ancestry = (cmd: Command): string[] => (cmd.parent ? [...ancestry(cmd.parent), cmd.name()] : []);

/**
 * Parses `argv` (without node and the script) and runs the chosen action; resolves to its exit
 * code, or EXIT.usage after commander has printed a usage error. DiffwatchErrors propagate (main
 * prints them); see `exitCodeOf`.
 */
export async function execute(root: Command, argv: readonly string[]): Promise<number> {
  configure(root);
  try {
    await root.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw e;
  }
  return exitCodes.get(root) ?? EXIT.ok;
}

/** A bad or missing `--flag` is a usage error; any other DiffwatchError is EXIT.error. */
export function exitCodeOf(e: DiffwatchError): number {
  return e instanceof ConfigError && String(e.coords.key).startsWith('--') ? EXIT.usage : EXIT.error;
}

/** `diffwatch eval nab` for `['eval', 'nab', '--seed', '1']`: the leading words that name commands. */
export function commandPath(root: Command, argv: readonly string[]): string {
  const names = [root.name()];
  let cmd = root;
  for (const word of argv) {
    const sub = cmd.commands.find((c) => c.name() === word);
    if (!sub) break;
    names.push(word);
    cmd = sub;
  }
  return names.join(' ');
}

/** Parser of a numeric flag: a ConfigError naming the flag for anything but a finite number. */
export const numberFlag = (flag: string) => (raw: string): number => {
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new ConfigError(flag, `must be a number, got ${raw}`);
  return n;
};

/** `a, b,,c` → `['a', 'b', 'c']`: a comma-separated flag value. */
export const listFlag = (raw: string): string[] => raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

/** `Examples:` then one indented line each, for `addHelpText('after', ...)`. */
export const examples = (...lines: string[]): string => `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
