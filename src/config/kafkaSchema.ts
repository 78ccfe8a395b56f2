/** The `kafka` section: where telemetry is consumed from, and how the consumer group behaves. */
import { z } from 'zod';
import { bool, int, oneOf, regexSource, rules, str, strArray } from './fields.ts';
import { refusedSecret } from './secretFields.ts';

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
    ssl: z
      .strictObject({
        enabled: bool().default(false).describe('Connect to the brokers over TLS. Env: KAFKA_SSL (true or false).'),
        caFile: str().nullable().default(null).describe('PEM file of the CA that signed the brokers\' certificates; null: the system CAs. Env: KAFKA_SSL_CA_FILE.'),
        certFile: str().nullable().default(null).describe('PEM client certificate, for brokers that require one (mutual TLS); with keyFile.'),
        keyFile: str().nullable().default(null).describe('PEM private key of certFile.'),
        rejectUnauthorized: bool().default(true).describe('Refuse a broker certificate that the CA does not vouch for (or whose name does not match). Only for a test broker: false.'),
      })
      .prefault({})
      .describe('TLS to the brokers (an SSL or SASL_SSL listener).'),
    sasl: z
      .strictObject({
        mechanism: oneOf(['scram-sha-512', 'scram-sha-256', 'plain']).default('scram-sha-512').describe('SASL mechanism. Env: KAFKA_SASL_MECHANISM.'),
        username: str().nullable().default(null).describe('SASL user; null: no SASL. Env: KAFKA_SASL_USERNAME.'),
        passwordFile: str().nullable().default(null).describe('File holding the SASL password (one trailing newline ignored). Env: KAFKA_SASL_PASSWORD_FILE, or the password itself in KAFKA_SASL_PASSWORD (which wins).'),
        password: refusedSecret('kafka.sasl.password', 'KAFKA_SASL_PASSWORD', 'kafka.sasl.passwordFile'),
      })
      .prefault({})
      .describe('SASL authentication (a SASL_PLAINTEXT or SASL_SSL listener). Secrets come only from the environment or a file.'),
  }),
  (k, fail) => {
    if (k.topics.length === 0 && k.topicPattern === null) fail(['topics'], 'set at least one topic, or kafka.topicPattern');
    if (k.topics.length > 0 && k.topicPattern !== null) fail(['topicPattern'], 'set either kafka.topics or kafka.topicPattern, not both (set kafka.topics to [])');
    if (!k.ssl.enabled && (k.ssl.caFile !== null || k.ssl.certFile !== null)) fail(['ssl', 'enabled'], 'kafka.ssl files are set but TLS is off: set kafka.ssl.enabled to true (or KAFKA_SSL=true)');
    if ((k.ssl.certFile === null) !== (k.ssl.keyFile === null)) fail(['ssl', k.ssl.certFile === null ? 'certFile' : 'keyFile'], 'set kafka.ssl.certFile and kafka.ssl.keyFile together, or neither');
    if (k.sasl.passwordFile !== null && k.sasl.username === null) fail(['sasl', 'username'], 'kafka.sasl.passwordFile is set but no user: set KAFKA_SASL_USERNAME or kafka.sasl.username');
    if (k.heartbeatIntervalMs * 3 > k.sessionTimeoutMs) fail(['heartbeatIntervalMs'], `must be at most a third of kafka.sessionTimeoutMs (${k.sessionTimeoutMs}), got ${k.heartbeatIntervalMs}`);
  },
).prefault({});

export type KafkaConfig = z.output<typeof kafkaSchema>;
