/**
 * Confluent schema ids resolved from a real schema registry: Apicurio Registry started by
 * `stackUp(..., { withRegistry: true })` (from Maven Central; started here when it is not running).
 * Two writer schemas are registered through the registry's Confluent API, readings framed with
 * their ids are produced to a fresh topic, and `diffwatch run` with only `ingest.registry.url`
 * (no `ingest.schemaIds`) must score every window and dead-letter the one message whose id the
 * registry does not know as SCHEMA_UNKNOWN. Then an outage: with the registry behind a TCP proxy
 * that resets every connection, the service retries and neither dead-letters nor commits anything;
 * once the proxy lets traffic through, every window is scored.
 */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { InfluxDB } from 'influx';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { StackError } from '../../../src/errors.ts';
import { frameConfluent } from '../../../src/ingest/codec/confluentWire.ts';
import { LOGICAL_TYPES, READING_SCHEMA_PATH } from '../../../src/ingest/codec/loadSchema.ts';
import { encodeReading } from '../../../src/ingest/codec/readingEncoder.ts';
import { DLQ_HEADERS } from '../../../src/ingest/deadLetter.ts';
import { rootLogger } from '../../../src/log.ts';
import { registryUrl } from '../../../src/stack/registryServer.ts';
import { stackDown, stackUp, type StackService } from '../../../src/stack/stack.ts';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, uniqueName, waitUntil } from '../helpers.ts';
import { killAllDiffwatch, ROOT, runDiffwatch, startDiffwatch, startTcpProxy, writeConfig } from '../service/runHelpers.ts';

const { stack } = loadConfig();
const url = registryUrl(stack);
const WINDOW = 16;
const POINTS = 120;
const UNKNOWN_ID = 2_000_000_007;

let started: StackService[] = [];
/** Set when the registry's artifacts cannot be had; the test is then skipped with this reason. */
let unavailable: string | undefined;

beforeAll(async () => {
  try {
    ({ started } = await stackUp(stack, rootLogger.namespace('stack'), { withRegistry: true }));
  } catch (e) {
    if (!(e instanceof StackError && /could not resolve/.test(e.message))) throw e;
    unavailable = `the schema registry's artifacts cannot be obtained from Maven Central: ${e.message.split('\n')[0]}`;
    process.stderr.write(`schemaRegistry.test.ts skipped: ${unavailable}\n`);
  }
});

afterEach(() => killAllDiffwatch());

afterAll(async () => {
  if (started.includes('registry') && process.env.DIFFWATCH_STACK_KEEP !== '1') await stackDown(stack, { services: ['registry'] });
});

/** Register `schema` under `subject` through the Confluent API; returns its id. */
async function register(subject: string, schema: string): Promise<number> {
  const res = await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema }),
  });
  const body = (await res.json()) as { id?: number };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.id!;
}

/** `POINTS` readings of one entity, one a minute, each framed with the schema id `frame` picks for it. */
function readings(entity: string, frame: (i: number, r: { entityId: string; timestamp: number; values: { value: number } }) => Buffer) {
  const t0 = Date.UTC(2026, 0, 1);
  return Array.from({ length: POINTS }, (_, i) => {
    const r = { entityId: entity, timestamp: t0 + i * 60_000, values: { value: Math.round(Math.sin(i / 5) * 1_000) / 100 } };
    return { key: entity, value: frame(i, r) };
  });
}

async function produce(topic: string, messages: Array<{ key: string; value: Buffer }>): Promise<void> {
  const producer = kafkaClient().producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

/** A service config reading `topic` as Confluent-framed Avro with schema ids from `registryUrl` only. */
function serviceConfig(topic: string, groupId: string, database: string, registry: Record<string, unknown>) {
  return {
    kafka: { topics: [topic], groupId, commitIntervalMs: 200 },
    ingest: { format: 'confluent', registry },
    stream: { windowLength: WINDOW, hop: 1, entityIdleMs: 1_500 },
    scorer: { kind: 'baseline' },
    detect: { stateTopic: uniqueName('registry-state'), threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 0 } },
    sinks: { anomaliesTopic: uniqueName('registry-anomalies'), influx: { database, flushIntervalMs: 100 } },
  };
}

async function countScores(database: string, entity: string): Promise<number> {
  const { hostname, port } = new URL(influxUrl());
  const influx = new InfluxDB({ host: hostname, port: Number(port), database });
  const rows = await influx.query<{ count: number }>(`SELECT count("score") AS count FROM "scores" WHERE "entity" = '${entity}'`).catch(() => []);
  return rows[0]?.count ?? 0;
}

const serviceEnv = () => ({ KAFKA_BROKERS: kafkaBrokers().join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'warn' });

describe('Confluent schema ids from a schema registry', () => {
  it('decodes and scores readings whose writer schemas only the registry knows, and dead-letters an unknown id', async (ctx) => {
    if (unavailable) ctx.skip(unavailable);
    const brokers = kafkaBrokers();
    const topic = uniqueName('registry-telemetry');
    const groupId = uniqueName('registry-group');
    const database = uniqueName('registry').replace(/-/g, '_');
    await createTopics(brokers, [topic, `${topic}.dlq`], 1);

    // The current reading schema, and the first version (plain long timestamp, float values, a site field).
    const currentId = await register(`${topic}-value`, readFileSync(READING_SCHEMA_PATH, 'utf8'));
    const v1Text = readFileSync(`${ROOT}/test/fixtures/schemas/sensor-reading.v1.avsc`, 'utf8');
    const v1Id = await register(`${topic}-legacy-value`, v1Text);
    expect(new Set([currentId, v1Id, UNKNOWN_ID]).size).toBe(3);
    const v1 = avro.Type.forSchema(JSON.parse(v1Text) as avro.Schema, { logicalTypes: LOGICAL_TYPES });

    const entity = 'press-7';
    // Even rows written with the current schema, odd rows by an old producer with the first one.
    const messages = readings(entity, (i, r) => (i % 2 === 0 ? frameConfluent(currentId, encodeReading(r, 'avro')) : frameConfluent(v1Id, v1.toBuffer({ ...r, site: 'plant-3' }))));
    const poisonAt = messages.length;
    messages.push({ key: entity, value: frameConfluent(UNKNOWN_ID, encodeReading({ entityId: entity, timestamp: Date.UTC(2026, 0, 2), values: { value: 1 } }, 'avro')) });
    await produce(topic, messages);

    const config = serviceConfig(topic, groupId, database, { url });
    const run = await runDiffwatch(['run', '--config', writeConfig(config), '--until-idle', '4'], serviceEnv());
    expect(run.code, run.stderr.slice(-4_000)).toBe(0);

    // Every complete window of the readings of both writer schemas was scored.
    expect(await countScores(database, entity)).toBe(POINTS - WINDOW + 1);

    // The message with an id the registry does not know is the only dead letter.
    const dead: Array<{ offset: string; code: string; error: string }> = [];
    const kafka = kafkaClient();
    const consumer = kafka.consumer({ groupId: uniqueName('registry-dlq-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: `${topic}.dlq`, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const h = (k: string) => message.headers?.[k]?.toString() ?? '';
        dead.push({ offset: h(DLQ_HEADERS.offset), code: h(DLQ_HEADERS.code), error: h(DLQ_HEADERS.message) });
      },
    });
    await waitUntil(() => dead.length >= 1, { timeoutMs: 30_000, what: 'the dead letter' });
    await consumer.disconnect();
    expect(dead).toEqual([{ offset: String(poisonAt), code: 'SCHEMA_UNKNOWN', error: expect.stringMatching(new RegExp(`does not know confluent schema id ${UNKNOWN_ID}`)) }]);

    // And the group committed past it: nothing is left to redo.
    const admin = kafka.admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    await admin.disconnect();
    expect(committed.partitions[0].offset).toBe(String(messages.length));
  });
  it('waits out an unreachable registry without dead-lettering or committing, then scores everything', async (ctx) => {
    if (unavailable) ctx.skip(unavailable);
    const topic = uniqueName('registry-outage');
    const groupId = uniqueName('registry-outage-group');
    const database = uniqueName('registry_outage').replace(/-/g, '_');
    await createTopics(kafkaBrokers(), [topic, `${topic}.dlq`], 1);
    const id = await register(`${topic}-value`, readFileSync(READING_SCHEMA_PATH, 'utf8'));
    const entity = 'lathe-2';
    await produce(topic, readings(entity, (_i, r) => frameConfluent(id, encodeReading(r, 'avro'))));

    const proxy = await startTcpProxy(new URL(url));
    try {
      proxy.setMode('refuse');
      const config = serviceConfig(topic, groupId, database, { url: `${proxy.url}${new URL(url).pathname}`, retryMaxMs: 500 });
      const service = startDiffwatch(['run', '--config', writeConfig(config)], serviceEnv());
      await service.waitForLog((r) => r.msg === 'schema registry unreachable; retrying' && Number(r.attempt) >= 4, { what: 'four retries of the registry', timeoutMs: 60_000 });

      // The outage holds the partition: nothing dead-lettered, nothing scored, nothing committed.
      const admin = kafkaClient().admin();
      await admin.connect();
      try {
        expect((await admin.fetchTopicOffsets(`${topic}.dlq`))[0].high).toBe('0');
        expect(await countScores(database, entity)).toBe(0);
        const [before] = await admin.fetchOffsets({ groupId, topics: [topic] });
        expect(before.partitions[0].offset).toBe('-1');

        proxy.setMode('pass');
        await service.waitFor(async () => (await countScores(database, entity)) === POINTS - WINDOW + 1, { what: 'every window scored after the registry came back', timeoutMs: 60_000 });
        await service.waitFor(async () => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0].partitions[0].offset === String(POINTS), { what: 'offsets committed to the end' });
        expect((await admin.fetchTopicOffsets(`${topic}.dlq`))[0].high).toBe('0');
      } finally {
        await admin.disconnect();
      }
      service.kill('SIGTERM');
      expect((await service.exited).code, service.stderrTail()).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});
