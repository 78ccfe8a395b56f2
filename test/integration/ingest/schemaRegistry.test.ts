/**
 * Confluent schema ids resolved from a real schema registry: Apicurio Registry started by
 * `stackUp(..., { withRegistry: true })` (from Maven Central; started here when it is not running).
 * Two writer schemas are registered through the registry's Confluent API, readings framed with
 * their ids are produced to a fresh topic, and `diffwatch run` with only `ingest.registry.url`
 * (no `ingest.schemaIds`) must score every window and dead-letter the one message whose id the
 * registry does not know as SCHEMA_UNKNOWN.
 */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { InfluxDB } from 'influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { ROOT, runDiffwatch, writeConfig } from '../service/runHelpers.ts';

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
    const t0 = Date.UTC(2026, 0, 1);
    const messages = [];
    for (let i = 0; i < POINTS; i++) {
      const timestamp = t0 + i * 60_000;
      const value = Math.round(Math.sin(i / 5) * 1_000) / 100;
      const framed =
        i % 2 === 0
          ? frameConfluent(currentId, encodeReading({ entityId: entity, timestamp, values: { value } }, 'avro'))
          : frameConfluent(v1Id, v1.toBuffer({ entityId: entity, timestamp, values: { value }, site: 'plant-3' }));
      messages.push({ key: entity, value: framed });
    }
    const poisonAt = messages.length;
    messages.push({ key: entity, value: frameConfluent(UNKNOWN_ID, encodeReading({ entityId: entity, timestamp: t0 + POINTS * 60_000, values: { value: 1 } }, 'avro')) });
    const kafka = kafkaClient();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages });
    await producer.disconnect();

    const config = {
      kafka: { topics: [topic], groupId, commitIntervalMs: 200 },
      ingest: { format: 'confluent', registry: { url } },
      stream: { windowLength: WINDOW, hop: 1, entityIdleMs: 1_500 },
      scorer: { kind: 'baseline' },
      detect: { stateTopic: uniqueName('registry-state'), threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 0 } },
      sinks: { anomaliesTopic: uniqueName('registry-anomalies'), influx: { database, flushIntervalMs: 100 } },
    };
    const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'warn' };
    const run = await runDiffwatch(['run', '--config', writeConfig(config), '--until-idle', '4'], env);
    expect(run.code, run.stderr.slice(-4_000)).toBe(0);

    // Every complete window of the readings of both writer schemas was scored.
    const { hostname, port } = new URL(influxUrl());
    const influx = new InfluxDB({ host: hostname, port: Number(port), database });
    const rows = await influx.query<{ count: number }>(`SELECT count("score") AS count FROM "scores" WHERE "entity" = '${entity}'`);
    expect(rows[0]?.count).toBe(POINTS - WINDOW + 1);

    // The message with an id the registry does not know is the only dead letter.
    const dead: Array<{ offset: string; code: string; error: string }> = [];
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
});
