/**
 * `diffwatch eval synthetic`: the seeded synthetic anomaly suite, the development set for the
 * model's knobs. Prints a table per layout (type × detector: AUC / AUC-PR / delay), writes
 * `<out>/synthetic.json` with every figure, knob and the seed, and shows progress per case
 * (progress.ts). Heavy imports stay inside the action, so that `diffwatch eval --help` stays fast.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { Command, examples, listFlag, numberFlag, withExitCode } from './command.ts';

interface SyntheticFlags {
  detectors?: string;
  layouts?: string[];
  types?: string[];
  casesPerType?: number;
  seed: number;
  out: string;
  quick?: boolean;
  markdown?: boolean;
  model?: string;
}

/** The command line as given, for synthetic.json: `diffwatch eval synthetic --quick --seed 3`. */
function commandLine(cmd: Command): string {
  const given = cmd.options.filter((o) => cmd.getOptionValueSource(o.attributeName()) === 'cli');
  const words = given.map((o) => {
    const v: unknown = cmd.getOptionValue(o.attributeName());
    return v === true ? o.long! : `${o.long} ${Array.isArray(v) ? v.join(',') : String(v)}`;
  });
  return ['diffwatch eval synthetic', ...words].join(' ');
}

async function evalSynthetic(flags: SyntheticFlags, cmd: Command): Promise<number> {
  const s = await import('../eval/synthetic/index.ts');
  const { detectorRegistry, parseModelFlag, resolveDetectors } = await import('../eval/nab/harness/detectors.ts');
  const { rootLogger } = await import('../log.ts');
  const { createProgress } = await import('./progress.ts');
  const quick = flags.quick === true;
  const { seed } = flags;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError('--seed', `must be an integer >= 0, got ${seed}`);
  const casesPerType = flags.casesPerType ?? (quick ? 1 : 3);
  if (!Number.isInteger(casesPerType) || casesPerType < 1) throw new ConfigError('--cases-per-type', `must be an integer >= 1, got ${casesPerType}`);
  const layouts = (flags.layouts ?? [...s.LAYOUTS]) as (typeof s.LAYOUTS)[number][];
  for (const l of layouts) if (!s.LAYOUTS.includes(l)) throw new ConfigError('--layouts', `unknown layout "${l}"; known: ${s.LAYOUTS.join(', ')}`);
  const { types } = flags;
  for (const t of types ?? []) if (!s.ALL_TYPES.includes(t)) throw new ConfigError('--types', `unknown type "${t}"; known: ${s.ALL_TYPES.join(', ')}`);
  const detectors = resolveDetectors(flags.detectors ?? 'diffusion,baseline,oneLine', detectorRegistry(parseModelFlag(flags.model)));
  const knobs = quick ? { fitDays: 3, testDays: 3 } : {};
  const outDir = flags.out;

  const progress = createProgress({ title: 'synthetic', log: rootLogger.namespace('eval.synthetic') });
  const total = layouts.reduce((n, l) => n + s.typesOf(l).filter((t) => !types || types.includes(t)).length, 0) * casesPerType * detectors.length;
  progress.update(0, total);
  const result = await s.runSuite({
    seed, detectors, layouts, types, casesPerType, knobs,
    onCase: (r, done, total) => {
      const m = r.metrics;
      progress.update(done, total, `${r.id} ${r.detector}`);
      progress.milestone('synthetic case scored', { case: r.id, detector: r.detector, auc: m.auc, averagePrecision: m.averagePrecision, delays: m.delays, ms: Math.round(r.wallMs), done, total });
    },
  }).finally(() => progress.stop());
  const path = join(outDir, 'synthetic.json');
  try {
    await mkdir(outDir, { recursive: true });
    await writeFile(path, JSON.stringify({ command: commandLine(cmd), quick, ...result }, null, 2) + '\n');
  } catch (e) {
    throw new ConfigError('--out', `cannot write ${path} (${(e as Error).message}); pass --out <dir> somewhere writable`);
  }
  const timing = result.detectors.map((d) => `${d.name} train ${(d.trainMs / 1000).toFixed(1)} s, score ${(d.scoreMs / 1000).toFixed(1)} s`).join('; ');
  process.stdout.write(`${s.formatSuiteTable(result, flags.markdown === true)}\n\nseed ${seed}; wall ${(result.wallMs / 1000).toFixed(1)} s (${timing})\nwritten to ${path}\n`);
  return 0;
}

export function evalSyntheticCommand(): Command {
  return new Command('synthetic')
    .summary('run detectors over the seeded synthetic anomaly suite (per type: ROC AUC, AUC-PR, detection delay)')
    .option('--detectors <list>', 'from the NAB registry: diffusion, baseline, baselineRaw, windowedGaussian, oneLine (default diffusion,baseline,oneLine); scored on their raw window evidence')
    .option('--layouts <list>', 'univariate, multivariate, fleet (default all three)', listFlag)
    .option('--types <list>', 'anomaly types (default all): spike3, spike4, spike5, levelShift, varianceChange, trendChange, frequencyChange, phaseShift, missingDailyCycle, patternChange, flatline, stuckValue; multivariate also correlationBreak, commandWithoutResponse, responseWithoutCommand', listFlag)
    .option('--cases-per-type <n>', 'seeded cases per layout and type (default 3)', numberFlag('--cases-per-type'))
    .option('--seed <n>', 'seed of the data and of every detector', numberFlag('--seed'), 0)
    .option('--out <dir>', 'where synthetic.json goes', join('out', 'synthetic'))
    .option('--quick', 'a CI subset: 1 case per type, 3 days to fit, 3 to test (flags above still apply)')
    .option('--markdown', 'print the tables as Markdown')
    .option('--model <json>', 'overrides of the diffusion model, e.g. \'{"scoring":"imputation"}\'')
    .addHelpText('after', examples(
      'diffwatch eval synthetic --detectors diffusion,baseline,oneLine --seed 0 --out out/synthetic',
      'diffwatch eval synthetic --quick --detectors oneLine,baseline',
      'diffwatch eval synthetic --layouts univariate --types spike5,levelShift --cases-per-type 1 --markdown',
    ))
    .action(withExitCode(evalSynthetic));
}
