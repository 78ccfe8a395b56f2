/**
 * `diffwatch train`: fit the diffusion model on a CSV series or on one entity's readings from
 * a Kafka topic, write a checkpoint directory, print the validation score distribution (what
 * an alert threshold is chosen from) and the model version.
 *
 * Hyper-parameters: MODEL_DEFAULTS ← the `model` section of --config ← flags.
 * TensorFlow.js and kafkajs are imported inside the action, so `diffwatch --help` stays fast.
 */
import { Option } from 'commander';
import type { DiffwatchConfig } from '../config/schema.ts';
import { ConfigError, ModelError } from '../errors.ts';
import { parseTimestamp } from '../ingest/csvSeries.ts';
import type { Logger } from '../log.ts';
import type { ModelConfig } from '../model/modelConfig.ts';
import type { TrainProgress, TrainSeries } from '../model/trainer.ts';
import type { BackendPreference } from '../model/backend.ts';
import { Command, examples, listFlag, numberFlag, withExitCode } from './command.ts';
import type { Progress } from './progress.ts';

/** Flag → model config key, for the numeric hyper-parameters. */
export const MODEL_FLAGS: Record<string, keyof ModelConfig> = {
  seed: 'seed',
  epochs: 'epochs',
  window: 'windowLength',
  stride: 'stride',
  T: 'T',
  t0: 't0',
  steps: 'steps',
  draws: 'draws',
  width: 'width',
  depth: 'depth',
  kernel: 'kernelSize',
  embed: 'embedDim',
  lr: 'lr',
  batch: 'batchSize',
  patience: 'patience',
  'val-fraction': 'validationFraction',
};

/** The flags of `diffwatch train`, as commander parses them. */
export interface TrainFlags {
  file?: string;
  columns?: string[];
  topic?: string;
  entity?: string;
  from?: string;
  to?: string;
  out?: string;
  config?: string;
  backend?: string;
  json?: boolean;
  schedule?: string;
  windowCentering?: boolean;
  scoring?: string;
  /** The numeric hyper-parameters, by the camelCase name of their flag (MODEL_FLAGS). */
  [hyperParameter: string]: unknown;
}

const camel = (flag: string) => flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

/** Defaults ← the config file's `model` section ← flags; and the rest of the config. */
export async function modelOverrides(flags: TrainFlags): Promise<{ model: Partial<ModelConfig>; config: Readonly<DiffwatchConfig> }> {
  const { loadConfig, readConfigFile } = await import('../config/loadConfig.ts');
  const { model: section = {}, ...rest } = flags.config ? readConfigFile(flags.config) : {};
  if (typeof section !== 'object' || section === null || Array.isArray(section)) throw new ConfigError('model', 'must be an object of hyper-parameters');
  const model: Record<string, unknown> = { ...(section as Record<string, unknown>) };
  for (const [flag, key] of Object.entries(MODEL_FLAGS)) {
    const v = flags[camel(flag)];
    if (v !== undefined) model[key] = v;
  }
  if (flags.schedule !== undefined) model.scheduleKind = flags.schedule;
  if (flags.windowCentering === true) model.windowCentering = true;
  if (flags.scoring !== undefined) model.scoring = flags.scoring;
  return { model: model as Partial<ModelConfig>, config: loadConfig({ overrides: rest }) };
}

async function seriesFromFile(file: string, columns: string[] | undefined): Promise<TrainSeries> {
  const { readCsvSeries } = await import('../ingest/csvSeries.ts');
  const s = readCsvSeries(file, { columns });
  return { values: s.values, channels: s.channels, timestamps: s.timestamps };
}

function eventTime(flag: string, raw: string): number {
  try {
    return parseTimestamp(raw, { file: flag, line: 0 });
  } catch {
    throw new ConfigError(flag, `must be epoch ms or an ISO date-time, got ${JSON.stringify(raw)}`);
  }
}

/** One entity's readings between two event times → `[N, C]`; rows missing a channel are skipped (and counted). */
async function seriesFromTopic(flags: TrainFlags, cfg: Readonly<DiffwatchConfig>, log: Logger): Promise<TrainSeries> {
  const { entity: entityId, from, to } = flags;
  const topic = flags.topic!;
  if (!entityId) throw new ConfigError('--entity', 'is required with --topic');
  if (!from || !to) throw new ConfigError(from ? '--to' : '--from', 'is required with --topic (epoch ms or an ISO date-time)');
  const fromMs = eventTime('--from', from);
  const toMs = eventTime('--to', to);
  if (!(toMs > fromMs)) throw new ConfigError('--to', `must be after --from (${from})`);
  const { createKafka } = await import('../ingest/kafkaClient.ts');
  const { readingDecoderFor } = await import('../ingest/codec/index.ts');
  const { readTopicRange } = await import('../ingest/readTopicRange.ts');
  const kafka = createKafka(cfg.kafka, { log, clientIdSuffix: 'train' });
  const { decode } = readingDecoderFor(cfg.ingest);
  const range = await readTopicRange({ kafka, topic, entityId, fromMs, toMs, allowedLatenessMs: cfg.stream.allowedLatenessMs, decode, log });
  if (range.readings.length === 0) throw new ModelError('MODEL_INVALID', `no readings of entity ${entityId} on ${topic} between ${from} and ${to} (${range.messages} messages read)`, { topic, entityId });
  const channels = flags.columns ?? (cfg.stream.channels.length > 0 ? [...cfg.stream.channels] : Object.keys(range.readings[0].values).sort());
  const rows = range.readings.filter((r) => channels.every((c) => Number.isFinite(r.values[c])));
  if (rows.length < range.readings.length) log.warn('readings without every channel skipped', { skipped: range.readings.length - rows.length, channels });
  const values = new Float64Array(rows.length * channels.length);
  rows.forEach((r, i) => channels.forEach((c, j) => (values[i * channels.length + j] = r.values[c])));
  return { values, channels, timestamps: Float64Array.from(rows, (r) => r.timestamp) };
}

/** Training steps on the bar; once per epoch (with its validation loss) a `training epoch` milestone. */
function trainProgress(progress: Progress): (p: TrainProgress) => void {
  let val = '';
  return (p) => {
    if (p.valLoss !== undefined) val = `  val ${p.valLoss.toFixed(4)}`;
    const status = `epoch ${p.epoch}/${p.epochs}  loss ${p.loss.toFixed(4)}${val}`;
    progress.update((p.epoch - 1) * p.stepsPerEpoch + p.step, p.epochs * p.stepsPerEpoch, status);
    if (p.valLoss !== undefined) {
      progress.milestone('training epoch', { epoch: p.epoch, epochs: p.epochs, steps: p.stepsPerEpoch, loss: p.loss, valLoss: p.valLoss, etaMs: Math.round(p.etaMs) }, status);
    }
  };
}

async function train(flags: TrainFlags): Promise<number> {
  const { out, file } = flags;
  if (!out) throw new ConfigError('--out', 'is required: the checkpoint directory to write');
  if (!file === !flags.topic) throw new ConfigError('--file', 'give exactly one of --file <csv> or --topic <topic>');
  const { model: overrides, config } = await modelOverrides(flags);
  const { rootLogger } = await import('../log.ts');
  const log = rootLogger.namespace('train');
  const { resolveModelConfig } = await import('../model/modelConfig.ts');
  const modelCfg = resolveModelConfig(overrides); // fail on a bad value before any data is read
  const series = file ? await seriesFromFile(file, flags.columns) : await seriesFromTopic(flags, config, log);

  const { initBackend } = await import('../model/backend.ts');
  const { train } = await import('../model/trainer.ts');
  const { saveCheckpoint } = await import('../model/checkpoint.ts');
  const { namedGroups } = await import('../model/channelGroups.ts');
  const { createProgress } = await import('./progress.ts');
  await initBackend((flags.backend ?? 'auto') as BackendPreference, log);
  log.info('training', { rows: series.timestamps.length, channels: series.channels, config: modelCfg });
  const progress = createProgress({ title: 'train', log });
  const started = Date.now();
  const model = await train(series, modelCfg, { onProgress: trainProgress(progress) }).finally(() => progress.stop());
  try {
    const version = await saveCheckpoint(out, model);
    const { validationScores: q, losses, trainingData } = model.manifest;
    const groups = namedGroups(model.manifest);
    // The channels judged by their shape alone: their level trended through the fit (levelTrend.ts).
    const trendCentred = series.channels.filter((_, c) => model.manifest.imputation?.centred?.[c]);
    // Those of them whose trend is certain enough to test their level against it (trendLevel.ts).
    const levelAgainstTrend = series.channels.filter((_, c) => model.manifest.imputation?.trendLevel?.coef[c]);
    const summary = { out, version, channels: series.channels, ...(groups ? { groups } : {}), ...(trendCentred.length > 0 ? { trendCentred } : {}), ...(levelAgainstTrend.length > 0 ? { levelAgainstTrend } : {}), seconds: (Date.now() - started) / 1000, trainingData, losses, validationScores: q };
    if (flags.json === true) {
      process.stdout.write(JSON.stringify(summary) + '\n');
    } else {
      const f = (v: number) => v.toPrecision(4);
      process.stdout.write(
        [
          `model ${version} written to ${out}`,
          `best epoch ${losses.bestEpoch} of ${losses.validation.length}, validation loss ${f(losses.bestValidation)}`,
          `validation window scores (${q.windows} windows): p50 ${f(q.p50)}  p90 ${f(q.p90)}  p95 ${f(q.p95)}  p99 ${f(q.p99)}  p99.9 ${f(q.p999)}  max ${f(q.max)}`,
          ...(groups ? [`channel groups, a net each (* reads the calendar): ${groups.map((g) => `[${g.channels.join(', ')}]${g.calendar ? '*' : ''}`).join(' ')}`] : []),
          ...(trendCentred.length > 0 ? [`judged by their shape alone, their level having trended through the fit: ${trendCentred.join(', ')}`] : []),
          ...(levelAgainstTrend.length > 0 ? [`their level tested against a trend certain enough to extrapolate: ${levelAgainstTrend.join(', ')}`] : []),
        ].join('\n') + '\n',
      );
    }
  } finally {
    model.dispose();
  }
  return 0;
}

export function trainCommand(): Command {
  const cmd = new Command('train')
    .summary('train the diffusion model on a CSV series or a topic range and write a checkpoint')
    .description('Train the diffusion model on normal data from a CSV series or one entity\'s readings on a topic, write a checkpoint directory, and print the validation score distribution (what an alert threshold is chosen from) and the model version.')
    .usage('--file <csv> --out <dir> [options]\n       diffwatch train --topic <t> --entity <id> --from <time> --to <time> --out <dir> [options]')
    .option('--file <csv>', 'header row, then timestamp,value[,value...] rows')
    .option('--columns <a,b>', 'channels to model, in this order (default: every CSV column / the readings\' keys, sorted)', listFlag)
    .option('--topic <topic>', 'read one entity\'s readings from a telemetry topic (nothing is committed)')
    .option('--entity <id>', 'the entity to read, with --topic')
    .option('--from <time>', 'event-time range start, epoch ms or ISO date-time (UTC without a zone)')
    .option('--to <time>', 'event-time range end, as --from')
    .option('--out <dir>', 'checkpoint directory (weights.bin, model.json, manifest.json)')
    .option('--config <file>', 'diffwatch config (brokers, codec); its optional "model" section sets hyper-parameters')
    .option('--backend <name>', 'auto (default), tensorflow, webgpu, wasm or cpu')
    .option('--json', 'print the summary as one JSON object')
    .optionsGroup('Hyper-parameters (defaults in src/model/modelConfig.ts; flags beat the config\'s "model" section):');
  for (const [flag, key] of Object.entries(MODEL_FLAGS)) cmd.addOption(new Option(`--${flag} <n>`, `model.${key}`).argParser(numberFlag(`--${flag}`)));
  return cmd
    .option('--schedule <kind>', 'noise schedule: cosine or linear')
    .option('--window-centering', 'subtract each window\'s per-channel mean before the denoiser sees it')
    .option('--scoring <kind>', 'reconstruction or imputation')
    .addHelpText('after', examples(
      'diffwatch train --file data/machine.csv --columns temp,load --out models/m1',
      'diffwatch train --topic telemetry --entity pump-7 --from 2024-03-01 --to 2024-03-08 --out models/pump-7 --epochs 20',
      'diffwatch train --file data/machine.csv --out models/m2 --config config/diffwatch.json --json',
    ))
    .action(withExitCode(train));
}
