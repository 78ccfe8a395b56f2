/**
 * `diffwatch eval nab`: runs detectors over NAB through the service's stream operators, writes
 * NAB-format results, `summary.json` and optionally `report.html`, and prints our scores beside
 * NAB's scoreboard. Heavy imports stay inside the action, so that `diffwatch eval --help` stays fast.
 */
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { RunProgress } from '../eval/nab/harness/runCorpus.ts';
import { Command, examples, numberFlag, withExitCode } from './command.ts';
import type { Progress } from './progress.ts';

interface NabFlags {
  nabDir?: string;
  out: string;
  split: string;
  files?: string;
  detectors?: string;
  report?: boolean;
  model?: string;
  onset?: string;
  fineTune?: string;
  seed: number;
  probationaryPercent?: number;
}

/** Rows over all files and detectors on the bar; one `nab file scored` milestone per file and detector. */
function nabProgress(progress: Progress, plan: { tasks: number; totalRows: number }): RunProgress {
  let rowsBefore = 0; // rows of finished tasks
  let task = 0;
  let status = '';
  progress.update(0, plan.totalRows, `0/${plan.tasks}`);
  return {
    fileStart(f) {
      status = `${task}/${plan.tasks}  ${f.detector} ${f.path}`;
      progress.update(rowsBefore, plan.totalRows, status);
    },
    fileRows(done) {
      progress.update(rowsBefore + done, plan.totalRows, status);
    },
    fileDone(f) {
      rowsBefore += f.rows;
      task++;
      progress.update(rowsBefore, plan.totalRows);
      progress.milestone('nab file scored', { detector: f.detector, file: f.path, rows: f.rows, ms: Math.round(f.wallMs), lateRows: f.lateRows, alertOnsets: f.alertOnsets, task, tasks: plan.tasks }, `${task}/${plan.tasks}`);
    },
    done: () => progress.stop(),
  };
}

async function evalNab(flags: NabFlags): Promise<number> {
  const h = await import('../eval/nab/harness/index.ts');
  const { readProfiles, NabError } = await import('../eval/nab/index.ts');
  const { rootLogger } = await import('../log.ts');
  const { createProgress } = await import('./progress.ts');
  const { nabDir, out: outDir, seed, probationaryPercent, split } = flags;
  if (!nabDir) throw new ConfigError('--nab-dir', 'is required: the NAB root holding data/ and labels/');
  if (!Number.isSafeInteger(seed)) throw new ConfigError('--seed', `must be an integer, got ${seed}`);
  if (probationaryPercent !== undefined && !(probationaryPercent >= 0 && probationaryPercent < 1)) {
    throw new ConfigError('--probationary-percent', `must be in [0, 1), got ${probationaryPercent}`);
  }
  const detectors = h.resolveDetectors(flags.detectors ?? h.DEFAULT_DETECTORS.join(','), h.detectorRegistry(h.parseModelFlag(flags.model), h.parseOnsetFlag(flags.onset), h.parseFineTuneFlag(flags.fineTune)));
  const log = rootLogger.namespace('eval.nab');
  // A corpus folder without config/profiles.json is scored with NAB v1.1's profiles.
  const profiles = await readProfiles(nabDir).catch((e: unknown) => {
    if (e instanceof NabError && e.code === 'NAB_NOT_FOUND') return h.NAB_PROFILES;
    throw e;
  });
  if (!h.NAB_SPLIT_CHOICES.includes(split as never)) throw new ConfigError('--split', `must be one of ${h.NAB_SPLIT_CHOICES.join(', ')}, got ${split}`);

  const bar = createProgress({ title: 'nab', log });
  const progress = (plan: { tasks: number; totalRows: number }) => nabProgress(bar, plan);
  const run = await h.runCorpus({ nabDir, detectors, pattern: flags.files, split: split as 'all', seed, probationaryPercent, progress }).finally(() => bar.stop());
  const written = await h.writeResults(outDir, run);
  const summary = h.summarise(run, profiles);
  const board = await h.readScoreboard(nabDir);
  const summaryPath = await h.writeSummary(outDir, { ...summary, scoreboard: Object.fromEntries(board.map((r) => [r.label, { ...r.scores, source: r.source }])) });
  const reportPath = flags.report === true ? await h.writeReport(outDir, h.renderReport(run, summary, board)) : undefined;
  log.info('nab run done', { files: run.files.length, detectors: detectors.map((d) => d.name), results: written.length, wallMs: Math.round(run.wallMs), summary: summaryPath, report: reportPath });
  process.stdout.write(`${h.formatScoreTable(summary, board)}\n\nresults: ${outDir}/<detector>/\nsummary: ${summaryPath}\n${reportPath ? `report:  ${reportPath}\n` : ''}`);
  return 0;
}

export function evalNabCommand(): Command {
  return new Command('nab')
    .summary('run detectors over NAB v1.1 through the streaming code path; write results, summary and report')
    .option('--nab-dir <dir>', 'NAB root with data/<category>/<file>.csv and labels/combined_windows.json (config/profiles.json and results/final_results.json are used when present)')
    .option('--out <dir>', 'results go to <out>/<detector>/<category>/<detector>_<file>.csv, plus <out>/summary.json and <out>/report.html', join('out', 'nab'))
    .option('--split <half>', 'tuning, test or all: the fixed halves of data/nab-split.json; knobs are chosen on tuning, test is only reported', 'all')
    .option('--files <glob>', 'only the labelled files matching, e.g. "realKnownCause/*" or "*temperature*" (no "/" matches the file name; "," separates patterns); default all')
    .option('--detectors <list>', 'comma-separated, from: diffusion, baseline, baselineRaw, windowedGaussian, oneLine (default baseline,windowedGaussian)')
    .option('--report', 'also write the HTML report')
    .option('--model <json>', 'overrides of the diffusion model, e.g. \'{"scoring":"imputation"}\'')
    .option('--fine-tune <json>', 'the diffusion detector fine-tuned as the stream goes on, as the service does, e.g. \'{"everyRows":1000,"recentRows":4000,"epochs":3}\', or null')
    .option('--onset <json>', 'overrides of the diffusion detector\'s onset judge, e.g. \'{"levelShift":{"weight":0}}\'')
    .option('--seed <n>', 'seed for detectors that draw random numbers', numberFlag('--seed'), 0)
    .option('--probationary-percent <p>', 'share of each file that is NAB\'s probationary period (default 0.15)', numberFlag('--probationary-percent'))
    .addHelpText('after', examples(
      'diffwatch eval nab --nab-dir ../shared/datasets/nab --out out/nab --report',
      'diffwatch eval nab --nab-dir ../shared/datasets/nab --files \'realKnownCause/*\' --detectors baseline',
      'diffwatch eval nab --nab-dir ../shared/datasets/nab --split tuning --detectors diffusion --seed 1 --model \'{"scoring":"imputation"}\'',
    ))
    .action(withExitCode(evalNab));
}
