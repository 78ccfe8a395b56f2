/**
 * `diffwatch eval <subcommand>`: offline evaluation on public benchmarks. A subcommand is one
 * `addCommand` here; its module keeps heavy imports inside its action, so that
 * `diffwatch eval --help` stays fast.
 */
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { Command, examples, numberFlag, withExitCode } from './command.ts';
import { evalNabCommand } from './evalNabCommand.ts';
import { evalSyntheticCommand } from './evalSyntheticCommand.ts';

interface NabScoreFlags {
  nabDir?: string;
  detector?: string;
  results?: string;
  out?: string;
  json?: boolean;
  probationaryPercent?: number;
}

async function nabScore(flags: NabScoreFlags): Promise<number> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  const { nabScore, formatReport } = await import('../eval/nab/index.ts');
  const { nabDir, detector, probationaryPercent } = flags;
  if (!nabDir) throw new ConfigError('--nab-dir', 'is required: the NAB root holding data/, labels/ and config/');
  if (!detector) throw new ConfigError('--detector', 'is required: the name used in the results file names');
  const resultsDir = flags.results ?? join(nabDir, 'results');
  const report = await nabScore({ nabDir, resultsDir, detector, probationaryPercent });
  const out = flags.out ?? join(resultsDir, `${detector}_nab_scores.json`);
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
  if (flags.json === true) process.stdout.write(json + '\n');
  else process.stdout.write(`${formatReport(report)}\n\n${json}\nwritten to ${out}\n`);
  return 0;
}

function nabScoreCommand(): Command {
  return new Command('nab-score')
    .summary('score a detector\'s results in NAB v1.1 format (exact threshold sweep, normalised scores)')
    .option('--nab-dir <dir>', 'NAB root with data/, labels/combined_windows.json, config/profiles.json (config/thresholds.json optional)')
    .option('--detector <name>', 'results are read from <results>/<name>/<category>/<name>_<file>.csv')
    .option('--results <dir>', 'NAB results folder, or the detector\'s own folder (default <nab-dir>/results)')
    .option('--out <file>', 'where the JSON report goes (default <results>/<name>_nab_scores.json)')
    .option('--json', 'print only the JSON report, without the table')
    .option('--probationary-percent <p>', 'share of each file left unscored (default 0.15, as NAB)', numberFlag('--probationary-percent'))
    .addHelpText('after', examples(
      'diffwatch eval nab-score --nab-dir ../shared/datasets/nab --results out/nab --detector baseline',
      'diffwatch eval nab-score --nab-dir NAB --detector numenta --json > numenta.json',
    ))
    .action(withExitCode(nabScore));
}

export function evalCommand(): Command {
  return new Command('eval')
    .summary('evaluate detectors offline on public benchmarks (NAB, a synthetic suite)')
    .description('Evaluate detectors offline: on NAB v1.1 through the streaming code path, on a seeded synthetic anomaly suite, and score NAB-format results exactly as NAB does.')
    .usage('<subcommand> [options]')
    .addCommand(evalNabCommand())
    .addCommand(evalSyntheticCommand())
    .addCommand(nabScoreCommand())
    .addHelpText('after', examples(
      'diffwatch eval nab --nab-dir ../shared/datasets/nab --out out/nab --report',
      'diffwatch eval synthetic --quick --detectors oneLine,baseline',
      'diffwatch eval nab-score --nab-dir ../shared/datasets/nab --results out/nab --detector baseline',
      'diffwatch eval nab --help',
    ));
}
