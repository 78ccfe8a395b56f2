/**
 * `diffwatch eval nab`: runs detectors over NAB through the service's stream operators, writes
 * NAB-format results, `summary.json` and optionally `report.html`, and prints our scores beside
 * NAB's scoreboard. Heavy imports stay inside `run`, so that `diffwatch eval --help` stays fast.
 */
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { rootLogger } from '../log.ts';
import type { Command } from './command.ts';
import { flagNumber, flagString } from './parseArgs.ts';

export const nabCommand: Command = {
  summary: 'run detectors over NAB v1.1 through the streaming code path; write results, summary and report',
  usage: [
    'Usage: diffwatch eval nab --nab-dir <dir> [--out <dir>] [--split tuning|test|all] [--files <glob>] [--detectors baseline,windowedGaussian] [--report] [--seed <n>]',
    '',
    '  --nab-dir <dir>      NAB root with data/<category>/<file>.csv and labels/combined_windows.json',
    '                       (config/profiles.json and results/final_results.json are used when present)',
    '  --out <dir>          results go to <out>/<detector>/<category>/<detector>_<file>.csv, plus',
    '                       <out>/summary.json and <out>/report.html (default out/nab)',
    '  --split <half>       tuning, test or all (default all): the fixed halves of data/nab-split.json;',
    '                       knobs are chosen on tuning, test is only reported',
    '  --files <glob>       only the labelled files matching, e.g. "realKnownCause/*" or "*temperature*"',
    '                       (no "/" matches the file name; "," separates patterns); default all',
    '  --detectors <list>   comma-separated, from: diffusion, baseline, baselineRaw, windowedGaussian, oneLine',
    '                       (default baseline,windowedGaussian)',
    '  --report             also write the HTML report',
    '  --model <json>       overrides of the diffusion model, e.g. \'{"scoring":"imputation"}\'',
    '  --seed <n>           seed for detectors that draw random numbers (default 0)',
    '  --probationary-percent <p>  share of each file that is NAB\'s probationary period (default 0.15)',
  ].join('\n'),
  async run(args) {
    const h = await import('../eval/nab/harness/index.ts');
    const { readProfiles, NabError } = await import('../eval/nab/index.ts');
    const nabDir = flagString(args, 'nab-dir');
    if (!nabDir) throw new ConfigError('--nab-dir', 'is required: the NAB root holding data/ and labels/');
    const outDir = flagString(args, 'out') ?? join('out', 'nab');
    const seed = flagNumber(args, 'seed') ?? 0;
    if (!Number.isSafeInteger(seed)) throw new ConfigError('--seed', `must be an integer, got ${seed}`);
    const probationaryPercent = flagNumber(args, 'probationary-percent');
    if (probationaryPercent !== undefined && !(probationaryPercent >= 0 && probationaryPercent < 1)) {
      throw new ConfigError('--probationary-percent', `must be in [0, 1), got ${probationaryPercent}`);
    }
    const detectors = h.resolveDetectors(flagString(args, 'detectors') ?? h.DEFAULT_DETECTORS.join(','), h.detectorRegistry(h.parseModelFlag(flagString(args, 'model'))));
    const log = rootLogger.namespace('eval.nab');
    // A corpus folder without config/profiles.json is scored with NAB v1.1's profiles.
    const profiles = await readProfiles(nabDir).catch((e: unknown) => {
      if (e instanceof NabError && e.code === 'NAB_NOT_FOUND') return h.NAB_PROFILES;
      throw e;
    });
    const pattern = flagString(args, 'files');
    const split = flagString(args, 'split') ?? 'all';
    if (!h.NAB_SPLIT_CHOICES.includes(split as never)) throw new ConfigError('--split', `must be one of ${h.NAB_SPLIT_CHOICES.join(', ')}, got ${split}`);

    const progress = (plan: { tasks: number; totalRows: number }) => h.createRunProgress({ ...plan, log });
    const run = await h.runCorpus({ nabDir, detectors, pattern, split: split as 'all', seed, probationaryPercent, progress });
    const written = await h.writeResults(outDir, run);
    const summary = h.summarise(run, profiles);
    const board = await h.readScoreboard(nabDir);
    const summaryPath = await h.writeSummary(outDir, { ...summary, scoreboard: Object.fromEntries(board.map((r) => [r.label, { ...r.scores, source: r.source }])) });
    const reportPath = args.flags.report === true ? await h.writeReport(outDir, h.renderReport(run, summary, board)) : undefined;
    log.info('nab run done', { files: run.files.length, detectors: detectors.map((d) => d.name), results: written.length, wallMs: Math.round(run.wallMs), summary: summaryPath, report: reportPath });
    process.stdout.write(`${h.formatScoreTable(summary, board)}\n\nresults: ${outDir}/<detector>/\nsummary: ${summaryPath}\n${reportPath ? `report:  ${reportPath}\n` : ''}`);
    return 0;
  },
};

