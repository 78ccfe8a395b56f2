/**
 * `diffwatch eval <subcommand>`: offline evaluation on public benchmarks.
 * Each subcommand is one entry of SUBCOMMANDS, loaded lazily like the top-level commands.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { Command } from './command.ts';
import { nabCommand } from './evalNabCommand.ts';
import { syntheticCommand } from './evalSyntheticCommand.ts';
import { flagNumber, flagString, type ParsedArgs } from './parseArgs.ts';

const nabScoreCommand: Command = {
  summary: 'score a detector\'s results in NAB v1.1 format (exact threshold sweep, normalised scores)',
  usage: [
    'Usage: diffwatch eval nab-score --nab-dir <dir> --detector <name> [--results <dir>] [--out <file>] [--json] [--probationary-percent <p>]',
    '',
    '  --nab-dir <dir>      NAB root with data/, labels/combined_windows.json, config/profiles.json (config/thresholds.json optional)',
    '  --detector <name>    results are read from <results>/<name>/<category>/<name>_<file>.csv',
    '  --results <dir>      NAB results folder, or the detector\'s own folder (default <nab-dir>/results)',
    '  --out <file>         where the JSON report goes (default <results>/<name>_nab_scores.json)',
    '  --json               print only the JSON report, without the table',
    '  --probationary-percent <p>  share of each file left unscored (default 0.15, as NAB)',
  ].join('\n'),
  async run(args) {
    const { nabScore, formatReport } = await import('../eval/nab/index.ts');
    const nabDir = flagString(args, 'nab-dir');
    const detector = flagString(args, 'detector');
    if (!nabDir) throw new ConfigError('--nab-dir', 'is required: the NAB root holding data/, labels/ and config/');
    if (!detector) throw new ConfigError('--detector', 'is required: the name used in the results file names');
    const resultsDir = flagString(args, 'results') ?? join(nabDir, 'results');
    const probationaryPercent = flagNumber(args, 'probationary-percent');
    const report = await nabScore({ nabDir, resultsDir, detector, probationaryPercent });
    const out = flagString(args, 'out') ?? join(resultsDir, `${detector}_nab_scores.json`);
    const summary = (pick: (p: (typeof report.profiles)[string]) => number) =>
      Object.fromEntries(Object.entries(report.profiles).map(([name, p]) => [name, pick(p)]));
    const json = JSON.stringify(
      { scores: summary((p) => p.optimised.normalised), thresholds: summary((p) => p.optimised.threshold), ...report },
      null,
      2,
    );
    try {
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, json + '\n');
    } catch (e) {
      throw new ConfigError('--out', `cannot write ${out} (${(e as Error).message}); pass --out <file> somewhere writable`);
    }
    if (args.flags.json === true) process.stdout.write(json + '\n');
    else process.stdout.write(`${formatReport(report)}\n\n${json}\nwritten to ${out}\n`);
    return 0;
  },
};

/**
 * Subcommand name → command. A new subcommand is one entry here; its module should keep heavy
 * imports inside `run`, so that `diffwatch eval --help` stays fast.
 */
const SUBCOMMANDS: Record<string, Command> = {
  'nab-score': nabScoreCommand,
  nab: nabCommand,
  synthetic: syntheticCommand,
};

function subcommandList(): string {
  return Object.entries(SUBCOMMANDS)
    .map(([name, cmd]) => `  ${name.padEnd(10)} ${cmd.summary}`)
    .join('\n');
}

export const evalCommand: Command = {
  summary: 'evaluate detectors offline on public benchmarks (NAB)',
  usage: [
    'Usage: diffwatch eval <subcommand> [options]',
    '',
    'Subcommands:',
    subcommandList(),
    ...Object.values(SUBCOMMANDS).flatMap((cmd) => ['', cmd.usage]),
  ].join('\n'),
  async run(args: ParsedArgs) {
    const [name, ...rest] = args.positionals;
    const cmd = name === undefined ? undefined : SUBCOMMANDS[name];
    if (!cmd) {
      const why = name === undefined ? 'a subcommand is required' : `unknown subcommand "${name}"`;
      process.stderr.write(`diffwatch eval: ${why}\n\nSubcommands:\n${subcommandList()}\n`);
      return 2;
    }
    return cmd.run({ ...args, positionals: rest });
  },
};
