/**
 * Shared helpers of the integration tests: unique names so tests never share topics, groups or
 * databases; topic creation; kafkajs clients that keep quiet; and a bounded condition poll.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { waitFor } from '../../src/stack/waitFor.ts';

/** `prefix-<base36 time>-<8 hex>`: valid as a Kafka topic, group id and InfluxDB database name. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Bootstrap brokers of the stack, from the global setup. */
export function kafkaBrokers(): string[] {
  const b = process.env.KAFKA_BROKERS;
  if (!b) throw new Error('KAFKA_BROKERS is not set: run integration tests through `vitest --project integration` (its globalSetup starts the stack)');
  return b.split(',').map((s) => s.trim());
}

/** Base URL of the stack's InfluxDB, from the global setup. */
export function influxUrl(): string {
  const u = process.env.INFLUX_URL;
  if (!u) throw new Error('INFLUX_URL is not set: run integration tests through `vitest --project integration`');
  return u;
}

/** A kafkajs client with logging off (kafkajs logs every retried connection at ERROR). */
export function kafkaClient(opts: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({ clientId: uniqueName('it'), brokers: kafkaBrokers(), logLevel: logLevel.NOTHING, ...opts });
}

/** Create topics and wait until every partition has a leader. */
export async function createTopics(brokers: string[], names: string[], partitions: number): Promise<void> {
  const admin = new Kafka({ clientId: 'it-admin', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })), waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

export interface WaitUntilOptions {
  /** ms before giving up; default 30 s. */
  timeoutMs?: number;
  /** ms between checks; default 50. */
  intervalMs?: number;
  /** What is awaited, for the failure message. */
  what?: string;
}

/** Poll `predicate` until it is true; throws after `timeoutMs` with `what` in the message. */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, opts: WaitUntilOptions = {}): Promise<void> {
  await waitFor(async () => ((await predicate()) ? true : undefined), { timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: opts.intervalMs ?? 50, what: opts.what ?? 'condition' });
}

/**
 * A service config for a test: its operator endpoint on an ephemeral port (ops.http.port 0), so
 * services started at the same time never collide on the default 9464. The config's own
 * `ops.http` keys win.
 */
export function withTestOps<T>(config: T): T {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return config;
  const c = config as { ops?: { http?: Record<string, unknown> } & Record<string, unknown> };
  return { ...config, ops: { ...c.ops, http: { port: 0, ...c.ops?.http } } };
}
