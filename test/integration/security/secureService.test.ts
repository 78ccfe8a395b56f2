/**
 * diffwatch against a secured stack (`stack up --secure`, started here in its own folder and
 * ports, stopped at the end): Kafka with SCRAM-SHA-512 over SASL_PLAINTEXT and over TLS
 * (SASL_SSL, trusting the stack's CA file), InfluxDB with auth, the service logging in as the
 * `diffwatch` Kafka user and the InfluxDB `writer`, passwords only in files. Every window of the
 * produced series must reach InfluxDB; a wrong Kafka or InfluxDB password must end the service
 * with exit 1 and AUTH_FAILED naming the service within seconds; no log line may hold a password.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InfluxDB } from 'influx';
import { createKafka } from '../../../src/ingest/kafkaClient.ts';
import { uniqueName } from '../helpers.ts';
import { NAB, exitWithin, killAllDiffwatch, produceSeries, startDiffwatch, windowEndTimes, writeConfig, type Exit } from '../service/runHelpers.ts';
import { startSecureStack, type SecureStack } from './secureStack.ts';

const FILE = join(NAB, 'ambient_temperature_system_failure.csv');
const WINDOW = 16;
const ROWS = 200;
/** ms a service with a refused password may take to exit, start-up (tsx, config, scorer) included. */
const AUTH_EXIT_MS = 30_000;

let s: SecureStack;
let admin: InfluxDB;

beforeAll(async () => {
  s = await startSecureStack();
  admin = s.influxAdmin(s.security.influx.database);
}, 240_000);

afterEach(async () => {
  await killAllDiffwatch();
});

afterAll(async () => {
  await s?.stop();
});

const saslKafka = () => createKafka({ brokers: [`127.0.0.1:${s.security.saslPort}`], clientId: 'it-secure', sasl: { mechanism: 'scram-sha-512', username: s.security.kafka.user, passwordFile: s.security.kafka.passwordFile } });

/** A topic holding ROWS readings of one entity, produced as the SCRAM user over SASL_PLAINTEXT. */
async function seededTopic(prefix: string): Promise<{ topic: string; entity: string }> {
  const topic = uniqueName(`${prefix}-telemetry`);
  const entity = uniqueName(prefix);
  const kafka = saslKafka();
  const a = kafka.admin();
  await a.connect();
  try {
    await a.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await a.disconnect();
  }
  await produceSeries(kafka, { topic, entity, file: FILE, to: ROWS });
  return { topic, entity };
}

function serviceConfig(topic: string): string {
  return writeConfig({
    kafka: { topics: [topic], groupId: uniqueName('secure-group'), commitIntervalMs: 100 },
    stream: { windowLength: WINDOW, hop: 1, entityIdleMs: 60_000 },
    scorer: { kind: 'baseline', baseline: { minHistory: 8 } },
    detect: { stateTopic: uniqueName('secure-state'), threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 0 } },
    // The writer has ALL on the stack's database but is no admin: it cannot create retention policies.
    sinks: { anomaliesTopic: uniqueName('secure-anomalies'), influx: { database: s.security.influx.database, flushIntervalMs: 50 }, retention: { enabled: false } },
  });
}

async function windowsOf(entity: string): Promise<number> {
  const rows = await admin.query<{ n: number }>(`SELECT count("state") AS n FROM "scores" WHERE "entity" = '${entity}'`);
  return rows[0]?.n ?? 0;
}

function expectNoPassword(exit: Exit): void {
  const text = exit.stdout + exit.stderr;
  for (const p of s.passwords()) expect(text.includes(p), 'a generated password appears in the output').toBe(false);
}

/** Runs the service until every window of the seeded topic is in InfluxDB, then stops it. */
async function runUntilAllWindows(via: 'sasl' | 'tls'): Promise<Exit & { entity: string; expected: number }> {
  const { topic, entity } = await seededTopic(via);
  const expected = new Set(windowEndTimes(FILE, ROWS, WINDOW)).size;
  const p = startDiffwatch(['run', '--config', serviceConfig(topic)], { ...s.env(via), DIFFWATCH_LOG_LEVEL: 'debug' });
  await p.waitFor(async () => (await windowsOf(entity)) >= expected || p.child.exitCode !== null, { what: `${expected} windows of ${entity} in InfluxDB (via ${via})`, timeoutMs: 90_000, intervalMs: 250 });
  expect(p.child.exitCode, p.stderrTail()).toBeNull();
  p.kill('SIGTERM');
  const exit = await exitWithin(p, 30_000);
  expect(exit.code).toBe(0);
  expect(await windowsOf(entity)).toBe(expected);
  return { ...exit, entity, expected };
}

describe('diffwatch run on a secured stack', () => {
  it('consumes over SASL_PLAINTEXT with SCRAM-SHA-512 and writes every window to the authenticated InfluxDB', async () => {
    const run = await runUntilAllWindows('sasl');
    expectNoPassword(run);
    // `inspect` reads back as the writer; with a wrong password it fails naming InfluxDB.
    const inspect = await exitWithin(startDiffwatch(['inspect', '--entity', run.entity, '--json'], s.env('sasl')), 30_000, 'diffwatch inspect');
    expect(inspect.code, inspect.stderr.slice(-2_000)).toBe(0);
    expect(JSON.parse(inspect.stdout).windows).toBe(run.expected);
    const refused = await exitWithin(startDiffwatch(['inspect', '--entity', run.entity], { ...s.env('sasl'), INFLUX_PASSWORD: 'not-the-password' }), 30_000, 'diffwatch inspect');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/InfluxDB authentication failed: 401 as user "writer"/);
  });

  it('does the same over the TLS listener, trusting the stack CA file', async () => {
    expectNoPassword(await runUntilAllWindows('tls'));
  });

  it('exits 1 within seconds with AUTH_FAILED naming Kafka when the Kafka password is wrong', async () => {
    const { topic } = await seededTopic('badkafka');
    const t0 = Date.now();
    const p = startDiffwatch(['run', '--config', serviceConfig(topic)], { ...s.env('sasl'), KAFKA_SASL_PASSWORD: 'not-the-password' });
    const exit = await exitWithin(p, AUTH_EXIT_MS, 'diffwatch run with a wrong Kafka password');
    const ms = Date.now() - t0;
    expect(exit.code, exit.stderr.slice(-2_000)).toBe(1);
    expect(exit.stderr).toMatch(/Kafka SASL authentication failed/);
    expect(exit.stderr).toContain('AUTH_FAILED');
    expect(exit.stderr).not.toContain('not-the-password');
    expectNoPassword(exit);
    process.stderr.write(`wrong Kafka password: exit ${exit.code} after ${ms} ms\n`);
  });

  it('exits 1 with AUTH_FAILED naming Kafka TLS when the broker certificate is not trusted (no CA file)', async () => {
    const { topic } = await seededTopic('badca');
    const { KAFKA_SSL_CA_FILE: _ca, ...env } = s.env('tls');
    const t0 = Date.now();
    // kafkajs retries a failed TLS connection (about 10 s) before connect() gives up.
    const exit = await exitWithin(startDiffwatch(['run', '--config', serviceConfig(topic)], { ...env, KAFKA_SSL: 'true' }), 60_000, 'diffwatch run with an untrusted broker certificate');
    expect(exit.code, exit.stderr.slice(-2_000)).toBe(1);
    expect(exit.stderr).toMatch(/Kafka TLS handshake with .* failed: .*certificate/);
    expect(exit.stderr).toContain('AUTH_FAILED');
    process.stderr.write(`untrusted broker certificate: exit ${exit.code} after ${Date.now() - t0} ms\n`);
  });

  it('exits 1 within seconds with AUTH_FAILED naming InfluxDB when the InfluxDB password is wrong', async () => {
    const { topic } = await seededTopic('badinflux');
    const t0 = Date.now();
    const p = startDiffwatch(['run', '--config', serviceConfig(topic)], { ...s.env('sasl'), INFLUX_PASSWORD: 'not-the-password' });
    const exit = await exitWithin(p, AUTH_EXIT_MS, 'diffwatch run with a wrong InfluxDB password');
    const ms = Date.now() - t0;
    expect(exit.code, exit.stderr.slice(-2_000)).toBe(1);
    expect(exit.stderr).toMatch(/InfluxDB authentication failed: 401/);
    expect(exit.stderr).toContain('AUTH_FAILED');
    expect(exit.stderr).not.toContain('not-the-password');
    expectNoPassword(exit);
    process.stderr.write(`wrong InfluxDB password: exit ${exit.code} after ${ms} ms\n`);
  });

  it('exits 1 with AUTH_FAILED naming InfluxDB when its password is changed while the service runs', async () => {
    // A user of its own, so that the other tests' writer keeps its password.
    const user = uniqueName('w').replace(/-/g, '_');
    const password = uniqueName('pw');
    await admin.query(`CREATE USER "${user}" WITH PASSWORD '${password}'`);
    await admin.query(`GRANT ALL ON "${s.security.influx.database}" TO "${user}"`);
    const { topic, entity } = await seededTopic('revoked');
    const p = startDiffwatch(['run', '--config', serviceConfig(topic)], { ...s.env('sasl'), INFLUX_USERNAME: user, INFLUX_PASSWORD: password });
    await p.waitFor(async () => (await windowsOf(entity)) > 0, { what: `windows of ${entity} in InfluxDB`, timeoutMs: 60_000, intervalMs: 250 });
    await admin.query(`SET PASSWORD FOR "${user}" = '${uniqueName('other')}'`);
    const t0 = Date.now();
    await produceSeries(saslKafka(), { topic, entity, file: FILE, from: ROWS, to: 2 * ROWS });
    const exit = await exitWithin(p, AUTH_EXIT_MS, 'diffwatch run after its InfluxDB password changed');
    expect(exit.code, exit.stderr.slice(-2_000)).toBe(1);
    expect(exit.stderr).toMatch(/InfluxDB authentication failed: 401/);
    expect(exit.stderr).not.toContain(password);
    expectNoPassword(exit);
    process.stderr.write(`InfluxDB password changed mid-run: exit ${exit.code} ${Date.now() - t0} ms after new data\n`);
  });
});
