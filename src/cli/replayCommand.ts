/**
 * `diffwatch replay --file <csv> --topic <t> --entity <id> [--format avro|json]`:
 * produce a CSV series (`timestamp,value[,value...]`) as sensor readings, one message per row,
 * keyed by entity so that one entity stays on one partition. kafkajs is imported inside the
 * action, so `diffwatch --help` stays fast.
 */
import type { IngestFormat } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import type { SensorReading } from '../types.ts';
import { Command, examples, numberFlag, withExitCode } from './command.ts';

const BATCH = 1_000;

/** The flags of `diffwatch replay`, as commander parses them. */
interface ReplayFlags {
  file?: string;
  topic?: string;
  entity?: string;
  format: string;
  schemaId?: number;
  partitions: number;
  limit?: number;
  config?: string;
}

async function replay(flags: ReplayFlags): Promise<number> {
  const { loadConfig } = await import('../config/loadConfig.ts');
  const cfg = loadConfig({ file: flags.config });
  const { file, topic, entity: entityId, schemaId } = flags;
  if (!file) throw new ConfigError('--file', 'is required');
  if (!topic) throw new ConfigError('--topic', 'is required');
  if (!entityId) throw new ConfigError('--entity', 'is required');
  const format = flags.format as IngestFormat;
  if (!['avro', 'json', 'confluent'].includes(format)) throw new ConfigError('--format', `must be avro, json or confluent, got ${format}`);
  if (format === 'confluent' && schemaId === undefined) throw new ConfigError('--schema-id', 'is required with --format confluent (the id your consumers map to schemas/sensor-reading.avsc)');
  const { readCsvSeries } = await import('../ingest/csvSeries.ts');
  const series = readCsvSeries(file);
  const limit = Math.min(flags.limit ?? Infinity, series.timestamps.length);

  const { Partitioners } = await import('kafkajs');
  const { encodeReading } = await import('../ingest/codec/index.ts');
  const { createKafka } = await import('../ingest/kafkaClient.ts');
  const { rootLogger } = await import('../log.ts');
  const { createProgress } = await import('./progress.ts');
  const log = rootLogger.namespace('replay');
  const kafka = createKafka(cfg.kafka, { log, clientIdSuffix: 'replay' });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: flags.partitions }] });
  await admin.disconnect();
  // Java's murmur2 partitioner: keys land where a Java producer would put them.
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const started = Date.now();
  const C = series.channels.length;
  const progress = createProgress({ title: 'replay', log });
  progress.update(0, limit);
  try {
    for (let start = 0; start < limit; start += BATCH) {
      const messages = [];
      for (let r = start; r < Math.min(limit, start + BATCH); r++) {
        const values: Record<string, number> = {};
        for (let c = 0; c < C; c++) values[series.channels[c]] = series.values[r * C + c];
        const reading: SensorReading = { entityId, timestamp: series.timestamps[r], values };
        messages.push({ key: entityId, value: encodeReading(reading, format, { schemaId }) });
      }
      await producer.send({ topic, acks: -1, messages });
      progress.update(Math.min(limit, start + BATCH), limit);
    }
  } finally {
    progress.stop();
    await producer.disconnect();
  }
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(JSON.stringify({ topic, entityId, format, readings: limit, seconds, readingsPerSecond: Math.round(limit / Math.max(seconds, 1e-3)) }) + '\n');
  return 0;
}

export function replayCommand(): Command {
  return new Command('replay')
    .summary('produce a CSV series to a Kafka topic as sensor readings')
    .description('Produce a CSV series to a Kafka topic as sensor readings, one message per row, keyed by the entity id (so one entity stays on one partition). Creates the topic if it is missing.')
    .option('--file <csv>', 'header row, then timestamp,value[,value...] rows (date-times without a zone are UTC)')
    .option('--topic <topic>', 'the telemetry topic')
    .option('--entity <id>', 'entity id of every reading, and the message key')
    .option('--format <format>', 'avro, json, or confluent (magic byte + --schema-id, then Avro)', 'avro')
    .option('--schema-id <id>', 'the schema registry id written with --format confluent', numberFlag('--schema-id'))
    .option('--partitions <n>', 'partitions if the topic has to be created', numberFlag('--partitions'), 1)
    .option('--limit <rows>', 'replay only the first rows', numberFlag('--limit'))
    .option('--config <file>', 'diffwatch config (brokers, client id); env KAFKA_BROKERS overrides it')
    .addHelpText('after', examples(
      'diffwatch replay --file data/nab/machine_temperature_system_failure.csv --topic telemetry --entity machine-1',
      'diffwatch replay --file data/pump.csv --topic telemetry --entity pump-7 --format confluent --schema-id 42 --limit 5000',
    ))
    .action(withExitCode(replay));
}
