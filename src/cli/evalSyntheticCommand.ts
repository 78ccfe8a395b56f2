/**
 * `diffwatch eval synthetic`: the seeded synthetic anomaly suite, the development set for the
 * model's knobs. Prints a table per layout (type × detector: AUC / AUC-PR / delay), writes
 * `<out>/synthetic.json` with every figure, knob and the seed, and a progress line per case on
 * stderr. Heavy imports stay inside `run`, so that `diffwatch eval --help` stays fast.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { Command } from './command.ts';
import { flagNumber, flagString, type ParsedArgs } from './parseArgs.ts';

const list = (args: ParsedArgs, name: string): string[] | undefined => flagString(args, name)?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

export const syntheticCommand: Command = {
  summary: 'run detectors over the seeded synthetic anomaly suite (per type: ROC AUC, AUC-PR, detection delay)',
  usage: [
    'Usage: diffwatch eval synthetic [--detectors diffusion,baseline,oneLine] [--layouts univariate,multivariate] [--types <list>] [--cases-per-type <n>] [--seed <n>] [--out <dir>] [--quick]',
    '',
    '  --detectors <list>     from the NAB registry: diffusion, baseline, baselineRaw, windowedGaussian, oneLine',
    '                         (default diffusion,baseline,oneLine); scored on their raw window evidence',
    '  --layouts <list>       univariate, multivariate (default both)',
    '  --types <list>         anomaly types (default all): spike3, spike4, spike5, levelShift, varianceChange,',
    '                         trendChange, frequencyChange, phaseShift, missingDailyCycle, patternChange, flatline,',
    '                         stuckValue; multivariate also correlationBreak, commandWithoutResponse, responseWithoutCommand',
    '  --cases-per-type <n>   seeded cases per layout and type (default 3)',
    '  --seed <n>             seed of the data and of every detector (default 0)',
    '  --out <dir>            where synthetic.json goes (default out/synthetic)',
    '  --quick                a CI subset: 1 case per type, 3 days to fit, 3 to test (flags above still apply)',
    '  --markdown             print the tables as Markdown',
    '  --model <json>         overrides of the diffusion model, e.g. \'{"scoring":"imputation"}\'',
  ].join('\n'),
  async run(args) {
    const s = await import('../eval/synthetic/index.ts');
    const { detectorRegistry, parseModelFlag, resolveDetectors } = await import('../eval/nab/harness/detectors.ts');
    const quick = args.flags.quick === true;
    const seed = flagNumber(args, 'seed') ?? 0;
    if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError('--seed', `must be an integer >= 0, got ${seed}`);
    const casesPerType = flagNumber(args, 'cases-per-type') ?? (quick ? 1 : 3);
    if (!Number.isInteger(casesPerType) || casesPerType < 1) throw new ConfigError('--cases-per-type', `must be an integer >= 1, got ${casesPerType}`);
    const layouts = (list(args, 'layouts') ?? [...s.LAYOUTS]) as typeof s.LAYOUTS[number][];
    for (const l of layouts) if (!s.LAYOUTS.includes(l)) throw new ConfigError('--layouts', `unknown layout "${l}"; known: ${s.LAYOUTS.join(', ')}`);
    const types = list(args, 'types');
    for (const t of types ?? []) if (!s.ALL_TYPES.includes(t)) throw new ConfigError('--types', `unknown type "${t}"; known: ${s.ALL_TYPES.join(', ')}`);
    const detectors = resolveDetectors(flagString(args, 'detectors') ?? 'diffusion,baseline,oneLine', detectorRegistry(parseModelFlag(flagString(args, 'model'))));
    const knobs = quick ? { fitDays: 3, testDays: 3 } : {};
    const outDir = flagString(args, 'out') ?? join('out', 'synthetic');
    const command = ['diffwatch eval synthetic', ...Object.entries(args.flags).map(([k, v]) => (v === true ? `--${k}` : `--${k} ${String(v)}`))].join(' ');

    const result = await s.runSuite({
      seed, detectors, layouts, types, casesPerType, knobs,
      onCase: (r, done, total) => {
        const m = r.metrics;
        const delays = m.delays.map((d) => (d === null ? '–' : d)).join(',');
        process.stderr.write(`[${done}/${total}] ${r.id} ${r.detector}: auc ${m.auc.toFixed(3)} ap ${m.averagePrecision.toFixed(3)} delay ${delays} (${Math.round(r.wallMs)} ms)\n`);
      },
    });
    const path = join(outDir, 'synthetic.json');
    try {
      await mkdir(outDir, { recursive: true });
      await writeFile(path, JSON.stringify({ command, quick, ...result }, null, 2) + '\n');
    } catch (e) {
      throw new ConfigError('--out', `cannot write ${path} (${(e as Error).message}); pass --out <dir> somewhere writable`);
    }
    const timing = result.detectors.map((d) => `${d.name} train ${(d.trainMs / 1000).toFixed(1)} s, score ${(d.scoreMs / 1000).toFixed(1)} s`).join('; ');
    process.stdout.write(`${s.formatSuiteTable(result, args.flags.markdown === true)}\n\nseed ${seed}; wall ${(result.wallMs / 1000).toFixed(1)} s (${timing})\nwritten to ${path}\n`);
    return 0;
  },
};
