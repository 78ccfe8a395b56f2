/**
 * `diffwatch train`: fit the diffusion model on a CSV series or on one entity's readings from
 * a Kafka topic, write a checkpoint directory, print the validation score distribution (what
 * an alert threshold is chosen from) and the model version.
 *
 * Hyper-parameters: MODEL_DEFAULTS ← the `model` section of --config ← flags.
 * TensorFlow.js and kafkajs are imported inside `run`, so `diffwatch --help` stays fast.
 */
import { loadConfig, readConfigFile } from '../config/loadConfig.ts';
import type { DiffwatchConfig } from '../config/schema.ts';
import { ConfigError, ModelError } from '../errors.ts';
import { parseTimestamp } from '../ingest/csvSeries.ts';
import { rootLogger, type Logger } from '../log.ts';
import type { ModelConfig } from '../model/modelConfig.ts';
import type { TrainSeries } from '../model/trainer.ts';
import type { BackendPreference } from '../model/backend.ts';
import type { Command } from './command.ts';
import { flagNumber, flagString, type ParsedArgs } from './parseArgs.ts';

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

const USAGE = [
  'Usage: diffwatch train --file <csv> [--columns a,b] --out <dir> [options]',
  '       diffwatch train --topic <t> --entity <id> --from <time> --to <time> --out <dir> [--columns a,b] [options]',
  '',
  '  --file <csv>          header row, then timestamp,value[,value...] rows',
  '  --columns a,b         channels to model, in this order (default: every CSV column / the readings\' keys, sorted)',
  '  --topic, --entity     read one entity\'s readings from a telemetry topic (nothing is committed)',
  '  --from, --to          event-time range, epoch ms or ISO date-time (UTC without a zone)',
  '  --out <dir>           checkpoint directory (weights.bin, model.json, manifest.json)',
  '  --config <file>       diffwatch config (brokers, codec); its optional "model" section sets hyper-parameters',
  '  --backend <name>      auto (default), tensorflow, webgpu, wasm or cpu',
  '  --json                print the summary as one JSON object',
  '',
  'Hyper-parameters (defaults in src/model/modelConfig.ts):',
  `  ${Object.keys(MODEL_FLAGS).map((f) => `--${f} <n>`).join(' ')}`,
  '  --schedule cosine|linear   --window-centering   --scoring reconstruction|imputation',
].join('\n');

/** Defaults ← the config file's `model` section ← flags; and the rest of the config. */
export function modelOverrides(args: ParsedArgs): { model: Partial<ModelConfig>; config: Readonly<DiffwatchConfig> } {
  const file = flagString(args, 'config');
  const { model: section = {}, ...rest } = file ? readConfigFile(file) : {};
  if (typeof section !== 'object' || section === null || Array.isArray(section)) throw new ConfigError('model', 'must be an object of hyper-parameters');
  const model: Record<string, unknown> = { ...(section as Record<string, unknown>) };
  for (const [flag, key] of Object.entries(MODEL_FLAGS)) {
    const v = flagNumber(args, flag);
    if (v !== undefined) model[key] = v;
  }
  const schedule = flagString(args, 'schedule');
  if (schedule !== undefined) model.scheduleKind = schedule;
  if (args.flags['window-centering'] === true) model.windowCentering = true;
  const scoring = flagString(args, 'scoring');
  if (scoring !== undefined) model.scoring = scoring;
  return { model: model as Partial<ModelConfig>, config: loadConfig({ overrides: rest }) };
}

const columnsFlag = (args: ParsedArgs) => flagString(args, 'columns')?.split(',').map((c) => c.trim()).filter(Boolean);

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
async function seriesFromTopic(args: ParsedArgs, cfg: Readonly<DiffwatchConfig>, log: Logger): Promise<TrainSeries> {
  const topic = flagString(args, 'topic')!;
  const entityId = flagString(args, 'entity');
  const from = flagString(args, 'from');
  const to = flagString(args, 'to');
  if (!entityId) throw new ConfigError('--entity', 'is required with --topic');
  if (!from || !to) throw new ConfigError(from ? '--to' : '--from', 'is required with --topic (epoch ms or an ISO date-time)');
  const fromMs = eventTime('--from', from);
  const toMs = eventTime('--to', to);
  if (!(toMs > fromMs)) throw new ConfigError('--to', `must be after --from (${from})`);
  const { Kafka, logLevel } = await import('kafkajs');
  const { kafkaLogCreator } = await import('../ingest/kafkaLogger.ts');
  const { readingDecoderFor } = await import('../ingest/codec/index.ts');
  const { readTopicRange } = await import('../ingest/readTopicRange.ts');
  const kafka = new Kafka({ clientId: `${cfg.kafka.clientId}-train`, brokers: [...cfg.kafka.brokers], logLevel: logLevel.WARN, logCreator: kafkaLogCreator(log) });
  const { decode } = readingDecoderFor(cfg.ingest);
  const range = await readTopicRange({ kafka, topic, entityId, fromMs, toMs, allowedLatenessMs: cfg.stream.allowedLatenessMs, decode, log });
  if (range.readings.length === 0) throw new ModelError('MODEL_INVALID', `no readings of entity ${entityId} on ${topic} between ${from} and ${to} (${range.messages} messages read)`, { topic, entityId });
  const channels = columnsFlag(args) ?? (cfg.stream.channels.length > 0 ? [...cfg.stream.channels] : Object.keys(range.readings[0].values).sort());
  const rows = range.readings.filter((r) => channels.every((c) => Number.isFinite(r.values[c])));
  if (rows.length < range.readings.length) log.warn('readings without every channel skipped', { skipped: range.readings.length - rows.length, channels });
  const values = new Float64Array(rows.length * channels.length);
  rows.forEach((r, i) => channels.forEach((c, j) => (values[i * channels.length + j] = r.values[c])));
  return { values, channels, timestamps: Float64Array.from(rows, (r) => r.timestamp) };
}

export const trainCommand: Command = {
  summary: 'train the diffusion model on a CSV series or a topic range and write a checkpoint',
  usage: USAGE,
  async run(args) {
    const out = flagString(args, 'out');
    const file = flagString(args, 'file');
    if (!out) throw new ConfigError('--out', 'is required: the checkpoint directory to write');
    if (!file === !flagString(args, 'topic')) throw new ConfigError('--file', 'give exactly one of --file <csv> or --topic <topic>');
    const { model: overrides, config } = modelOverrides(args);
    const log = rootLogger.namespace('train');
    const { resolveModelConfig } = await import('../model/modelConfig.ts');
    const modelCfg = resolveModelConfig(overrides); // fail on a bad value before any data is read
    const series = file ? await seriesFromFile(file, columnsFlag(args)) : await seriesFromTopic(args, config, log);

    const { initBackend } = await import('../model/backend.ts');
    const { train } = await import('../model/trainer.ts');
    const { saveCheckpoint } = await import('../model/checkpoint.ts');
    const { createProgressBar } = await import('../modelOps/progress.ts');
    await initBackend((flagString(args, 'backend') ?? 'auto') as BackendPreference, log);
    log.info('training', { rows: series.timestamps.length, channels: series.channels, config: modelCfg });
    const bar = createProgressBar({ log });
    const started = Date.now();
    const model = await train(series, modelCfg, { onProgress: bar.update }).finally(() => bar.done());
    try {
      const version = await saveCheckpoint(out, model);
      const { validationScores: q, losses, trainingData } = model.manifest;
      const summary = { out, version, channels: series.channels, seconds: (Date.now() - started) / 1000, trainingData, losses, validationScores: q };
      if (args.flags.json === true) {
        process.stdout.write(JSON.stringify(summary) + '\n');
      } else {
        const f = (v: number) => v.toPrecision(4);
        process.stdout.write(
          [
            `model ${version} written to ${out}`,
            `best epoch ${losses.bestEpoch} of ${losses.validation.length}, validation loss ${f(losses.bestValidation)}`,
            `validation window scores (${q.windows} windows): p50 ${f(q.p50)}  p90 ${f(q.p90)}  p95 ${f(q.p95)}  p99 ${f(q.p99)}  p99.9 ${f(q.p999)}  max ${f(q.max)}`,
          ].join('\n') + '\n',
        );
      }
    } finally {
      model.dispose();
    }
    return 0;
  },
};
