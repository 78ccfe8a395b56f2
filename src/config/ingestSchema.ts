/** The `ingest` section: the wire formats of the topics, their schemas, and ingest backpressure. */
import { z } from 'zod';
import { expected, httpUrl, int, matching, oneOf, rules, str } from './fields.ts';

export const ingestFormat = oneOf(['avro', 'confluent', 'json']);
export type IngestFormat = z.output<typeof ingestFormat>;

export const ingestSchema = rules(
  z.strictObject({
    format: ingestFormat.default('avro').describe('Wire format of topics not listed in `formats`.'),
    formats: z.record(z.string(), ingestFormat, { error: expected('an object of topic → format') }).default({}).describe('Per-topic wire format, topic → format.'),
    schemaIds: z
      .record(matching(/^\d+$/, 'a schema id (a non-negative integer)'), str(), { error: expected('an object of schema id → .avsc path') })
      .default({})
      .describe('Confluent schema id → path of the writer\'s .avsc (relative to the working directory).'),
    registry: z
      .strictObject({
        url: httpUrl()
          .nullable()
          .default(null)
          .describe('Base URL of a Confluent-compatible schema registry (Confluent: http://host:8081; Apicurio: http://host:8080/apis/ccompat/v7); a schema id not in `schemaIds` is fetched from `<url>/schemas/ids/<id>`. null: `schemaIds` only. Env: DIFFWATCH_REGISTRY_URL.'),
        requestTimeoutMs: int(100).default(5_000).describe('ms per registry request; a timeout counts as the registry being unreachable.'),
        missTtlMs: int(0).default(30_000).describe('ms an id the registry does not know (404, error 40403) is remembered before it is asked again; its messages go to the dead-letter topic as SCHEMA_UNKNOWN.'),
        retryMaxMs: int(100).default(10_000).describe('ms; the longest wait between two tries while the registry is unreachable (the partition waits, nothing is dead-lettered).'),
      })
      .prefault({})
      .describe('A schema registry for Confluent schema ids; found schemas are kept for the life of the process (ids are immutable).'),
    writerSchemas: z
      .record(z.string(), str(), { error: expected('an object of topic → .avsc path') })
      .default({})
      .describe('Per-topic writer schema of plain-Avro topics whose producers use an older schema, topic → .avsc path.'),
    readingSchema: str().default('schemas/sensor-reading.avsc').describe('Path of the reader schema for readings.'),
    maxMessageBytes: int(64).default(64 * 1024).describe('bytes; larger messages go to the dead-letter topic as MESSAGE_TOO_LARGE.'),
    maxNameLength: int(1)
      .default(256)
      .describe('characters (code points) per entity id, channel name, tag key and tag value; longer ones go to the dead-letter topic as RECORD_INVALID (the character rules: src/textRules.ts).'),
    dlqSuffix: str().default('.dlq').describe('Dead-letter topic = source topic + this suffix.'),
    highWaterMark: int(1).default(10_000).describe('Windows in flight (sent to the scorer and sinks, not yet durable) above which a partition is paused.'),
    lowWaterMark: int(0).default(2_000).describe('Windows in flight below which a paused partition resumes.'),
  }),
  (i, fail) => {
    const usesConfluent = i.format === 'confluent' || Object.values(i.formats).includes('confluent');
    if (usesConfluent && Object.keys(i.schemaIds).length === 0 && i.registry.url === null) fail(['schemaIds'], 'the confluent format needs a schema registry (ingest.registry.url) or at least one schema id mapped to an .avsc file');
    if (i.lowWaterMark >= i.highWaterMark) fail(['lowWaterMark'], `must be below ingest.highWaterMark (${i.highWaterMark}), got ${i.lowWaterMark}`);
  },
).prefault({});

export type IngestConfig = z.output<typeof ingestSchema>;
