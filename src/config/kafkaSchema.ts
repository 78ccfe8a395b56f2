/** The `kafka` section: where telemetry is consumed from, and how the consumer group behaves. */
import { z } from 'zod';
import { bool, int, regexSource, rules, str, strArray } from './fields.ts';

const broker = /^[^:\s]+:\d{1,5}$/;

export const kafkaSchema = rules(
  z.strictObject({
    brokers: strArray()
      .min(1, { error: 'must not be empty: set KAFKA_BROKERS=host:port[,host:port]' })
      .check((ctx) => {
        const bad = ctx.value.find((b) => !broker.test(b));
        if (bad !== undefined) ctx.issues.push({ code: 'custom', input: ctx.value, message: `"${bad}" is not host:port (e.g. 127.0.0.1:9092); set KAFKA_BROKERS=host:port[,host:port]` });
      })
      .default(['127.0.0.1:9092'])
      .describe('Bootstrap brokers, host:port. Env: KAFKA_BROKERS (comma-separated).'),
    clientId: str().default('diffwatch').describe('Client id the brokers log and quota by.'),
    groupId: str().default('diffwatch').describe('Consumer group. Env: DIFFWATCH_GROUP_ID.'),
    topics: strArray().default(['telemetry']).describe('Telemetry topics to consume. Env: DIFFWATCH_TOPICS (comma-separated). Exclusive with topicPattern.'),
    topicPattern: regexSource().nullable().default(null).describe('A regular expression over topic names, instead of `topics`.'),
    fromBeginning: bool().default(true).describe('Where a group with no committed offset starts.'),
    sessionTimeoutMs: int(6_000, 300_000).default(30_000).describe('ms; the broker evicts a member that sends no heartbeat for this long.'),
    heartbeatIntervalMs: int(100).default(3_000).describe('ms; at most a third of sessionTimeoutMs.'),
    maxWaitTimeMs: int(10, 60_000).default(1_000).describe('ms the broker may hold a fetch open waiting for data; also how late a resumed partition can start.'),
    maxBytesPerPartition: int(1_024).default(1_048_576).describe('bytes fetched per partition per request; bounds how much a pause leaves already fetched.'),
    commitIntervalMs: int(10).default(1_000).describe('ms between commits of the per-partition watermarks.'),
  }),
  (k, fail) => {
    if (k.topics.length === 0 && k.topicPattern === null) fail(['topics'], 'set at least one topic, or kafka.topicPattern');
    if (k.topics.length > 0 && k.topicPattern !== null) fail(['topicPattern'], 'set either kafka.topics or kafka.topicPattern, not both (set kafka.topics to [])');
    if (k.heartbeatIntervalMs * 3 > k.sessionTimeoutMs) fail(['heartbeatIntervalMs'], `must be at most a third of kafka.sessionTimeoutMs (${k.sessionTimeoutMs}), got ${k.heartbeatIntervalMs}`);
  },
).prefault({});

export type KafkaConfig = z.output<typeof kafkaSchema>;
