/**
 * `diffwatch replay --file <csv> --topic <t> --entity <id> [--format avro|json]`:
 * produce a CSV series (`timestamp,value[,value...]`) as sensor readings, one message per row,
 * keyed by entity so that one entity stays on one partition.
 */
import { Kafka, Partitioners, logLevel as KafkaLogLevel } from 'kafkajs';
import { loadConfig } from '../config/loadConfig.ts';
import type { IngestFormat } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { encodeReading } from '../ingest/codec/index.ts';
import { kafkaLogCreator } from '../ingest/kafkaLogger.ts';
import { rootLogger } from '../log.ts';
import { readCsvSeries } from '../ingest/csvSeries.ts';
import type { SensorReading } from '../types.ts';
import type { Command } from './command.ts';
import { flagNumber, flagString } from './parseArgs.ts';

const BATCH = 1_000;

export const replayCommand: Command = {
  summary: 'produce a CSV series to a Kafka topic as sensor readings',
  usage: [
    'Usage: diffwatch replay --file <csv> --topic <topic> --entity <id> [--format avro|json|confluent [--schema-id <id>]] [--partitions <n>] [--limit <rows>] [--config <file>]',
    '',
    '  --file <csv>        header row, then timestamp,value[,value...] rows (date-times without a zone are UTC)',
    '  --format            avro (default), json, or confluent (magic byte + --schema-id, then Avro)',
    '  --partitions <n>    partitions if the topic has to be created (default 1)',
    '  --limit <rows>      replay only the first rows',
  ].join('\n'),
  async run(args) {
    const cfg = loadConfig({ file: flagString(args, 'config') });
    const file = flagString(args, 'file');
    const topic = flagString(args, 'topic');
    const entityId = flagString(args, 'entity');
    if (!file) throw new ConfigError('--file', 'is required');
    if (!topic) throw new ConfigError('--topic', 'is required');
    if (!entityId) throw new ConfigError('--entity', 'is required');
    const format = (flagString(args, 'format') ?? 'avro') as IngestFormat;
    if (!['avro', 'json', 'confluent'].includes(format)) throw new ConfigError('--format', `must be avro, json or confluent, got ${format}`);
    const schemaId = flagNumber(args, 'schema-id');
    if (format === 'confluent' && schemaId === undefined) throw new ConfigError('--schema-id', 'is required with --format confluent (the id your consumers map to schemas/sensor-reading.avsc)');
    const series = readCsvSeries(file);
    const limit = Math.min(flagNumber(args, 'limit') ?? Infinity, series.timestamps.length);

    const kafka = new Kafka({ clientId: `${cfg.kafka.clientId}-replay`, brokers: [...cfg.kafka.brokers], logLevel: KafkaLogLevel.WARN, logCreator: kafkaLogCreator(rootLogger.namespace('replay')) });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: flagNumber(args, 'partitions') ?? 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const started = Date.now();
    const C = series.channels.length;
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
      }
    } finally {
      await producer.disconnect();
    }
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(JSON.stringify({ topic, entityId, format, readings: limit, seconds, readingsPerSecond: Math.round(limit / Math.max(seconds, 1e-3)) }) + '\n');
    return 0;
  },
};
