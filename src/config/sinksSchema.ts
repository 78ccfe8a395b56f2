/** The `sinks` section: the anomalies topic and InfluxDB (writes, back-off, retention). */
import { z } from 'zod';
import { bool, duration, httpUrl, int, matching, rules, str } from './fields.ts';
import { refusedSecret } from './secretFields.ts';

const influxSchema = rules(
  z.strictObject({
    url: httpUrl().default('http://127.0.0.1:8086').describe('InfluxDB 1.x HTTP API. Env: INFLUX_URL.'),
    database: matching(/^[A-Za-z0-9_-]+$/, 'a plain name of letters, digits, _ or -').default('diffwatch').describe('Database written to (created if missing). Env: INFLUX_DATABASE.'),
    batchSize: int(1).default(5_000).describe('Points per write request.'),
    flushIntervalMs: int(1).default(100).describe('ms; a partial batch is written after this long (each score waits up to this long for InfluxDB, and its messages for their commit).'),
    maxBufferPoints: int(1).default(50_000).describe('Points buffered at most, at least batchSize; above it the writer pushes back on ingest.'),
    retryDelayMs: int(1).default(200).describe('ms; first retry delay, doubled up to maxRetryDelayMs, with jitter.'),
    maxRetryDelayMs: int(1).default(10_000).describe('ms; the longest retry delay, at least retryDelayMs.'),
    timeoutMs: int(100).default(10_000).describe('ms per request.'),
    username: str().nullable().default(null).describe('InfluxDB user (HTTP basic auth); null: none, for a server without auth-enabled. Env: INFLUX_USERNAME.'),
    passwordFile: str().nullable().default(null).describe('File holding the InfluxDB password (one trailing newline ignored). Env: INFLUX_PASSWORD_FILE, or the password itself in INFLUX_PASSWORD (which wins).'),
    password: refusedSecret('sinks.influx.password', 'INFLUX_PASSWORD', 'sinks.influx.passwordFile'),
  }),
  (f, fail) => {
    if (f.maxBufferPoints < f.batchSize) fail(['maxBufferPoints'], `must be at least sinks.influx.batchSize (${f.batchSize}), got ${f.maxBufferPoints}`);
    if (f.passwordFile !== null && f.username === null) fail(['username'], 'sinks.influx.passwordFile is set but no user: set INFLUX_USERNAME or sinks.influx.username');
    if (f.maxRetryDelayMs < f.retryDelayMs) fail(['maxRetryDelayMs'], `must be at least sinks.influx.retryDelayMs (${f.retryDelayMs}), got ${f.maxRetryDelayMs}`);
  },
).prefault({});
/** The credentials are optional in the type: a config built by hand for a server without auth leaves them out. */
export type InfluxConfig = Omit<z.output<typeof influxSchema>, 'username' | 'passwordFile' | 'password'> & { username?: string | null; passwordFile?: string | null };

const retentionSchema = z
  .strictObject({
    enabled: bool().default(true).describe('Create the policies and continuous queries at start-up (idempotently). Off: write to the database\'s default policy.'),
    raw: duration().default('30d').describe('How long raw per-window scores, states and alerts are kept.'),
    minute: duration().default('365d').describe('How long the 1-minute roll-ups are kept.'),
    hour: duration().default('INF').describe('How long the 1-hour roll-ups are kept.'),
  })
  .prefault({});
export type InfluxRetentionConfig = z.output<typeof retentionSchema>;

export const sinksSchema = z
  .strictObject({
    anomaliesTopic: str().default('anomalies').describe('Topic for alert events.'),
    maxBatchesInFlight: int(1, 1_024).default(32).describe('Scored micro-batches that may await durability at once (their acks may complete out of order).'),
    influx: influxSchema.describe('The InfluxDB writer.'),
    retention: retentionSchema.describe(
      'How long InfluxDB keeps what diffwatch writes: raw per-window points under one retention policy, and continuous queries that roll scores and states up into 1-minute and 1-hour measurements, each under a longer policy. Durations are InfluxQL durations (30d, 52w, 720h) or INF (keep forever).',
    ),
  })
  .prefault({});
export type SinksConfig = z.output<typeof sinksSchema>;
