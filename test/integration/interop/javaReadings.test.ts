/**
 * Readings from a Java producer: the official Kafka producer with Avro's Java encoder
 * (test/interop/java/src/ReadingProducer.java) writes plain Avro to one topic and the Confluent
 * wire format (magic byte 0, 4-byte schema id, Avro) to another; `diffwatch run`, configured with
 * `ingest.format`, `ingest.formats` and `ingest.schemaIds`, scores every complete window of both
 * and alerts on the spike. A Confluent frame with an id nobody mapped is dead-lettered as
 * SCHEMA_UNKNOWN, which shows the framing is really read.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { READING_SCHEMA_PATH } from '../../../src/ingest/codec/loadSchema.ts';
import { DLQ_HEADERS } from '../../../src/ingest/deadLetter.ts';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, uniqueName, waitUntil } from '../helpers.ts';
import { countScores, influxClient, runDiffwatch, writeConfig } from '../service/runHelpers.ts';
import { jsonLines, prepareJavaClients } from './referenceClients.ts';

const WINDOW = 32;
const READINGS = 300;
const SPIKE_AT = 150;
const SCHEMA_ID = 7;
const T0 = Date.UTC(2024, 5, 1);

describe('readings produced by the Kafka Java producer with the Avro Java encoder', () => {
  it('are scored from plain Avro and from the Confluent wire format', async () => {
    const java = await prepareJavaClients(loadConfig().stack.kafkaVersion);
    const brokers = kafkaBrokers();
    const prefix = uniqueName('interop-java');
    const plain = `${prefix}-avro`;
    const framed = `${prefix}-confluent`;
    await createTopics(brokers, [plain, framed, `${framed}.dlq`], 1);

    const produce = async (topic: string, format: string, schemaId: number, entity: string, count: number) => {
      const r = await java.run('ReadingProducer', [brokers.join(','), topic, READING_SCHEMA_PATH, format, String(schemaId), entity, String(count), String(T0), '60000', String(SPIKE_AT)]);
      expect(r.code, r.stderr.slice(-4000)).toBe(0);
      expect(jsonLines(r.stdout)).toEqual([{ topic, format, readings: count }]);
    };
    await produce(plain, 'avro', 0, 'java-avro', READINGS);
    await produce(framed, 'confluent', SCHEMA_ID, 'java-confluent', READINGS);
    await produce(framed, 'confluent', SCHEMA_ID + 1, 'java-unmapped', 3);

    const database = uniqueName('interop_java').replace(/-/g, '_');
    const config = {
      kafka: { topics: [plain, framed], groupId: uniqueName('interop-java'), commitIntervalMs: 200 },
      ingest: { format: 'avro', formats: { [framed]: 'confluent' }, schemaIds: { [String(SCHEMA_ID)]: 'schemas/sensor-reading.avsc' } },
      stream: { windowLength: WINDOW, hop: 1 },
      scorer: { kind: 'baseline' },
      detect: { stateTopic: uniqueName('interop-java-state'), threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 0 } },
      sinks: { anomaliesTopic: uniqueName('interop-java-anomalies'), influx: { database, flushIntervalMs: 100 } },
    };
    const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'warn' };
    const run = await runDiffwatch(['run', '--config', writeConfig(config), '--until-idle', '2'], env);
    expect(run.code, run.stderr.slice(-4000)).toBe(0);

    // Every complete window of both entities was scored, and the spike opened an alert in each.
    const influx = influxClient(database);
    for (const entity of ['java-avro', 'java-confluent']) {
      expect(await countScores(influx, entity), entity).toBe(READINGS - WINDOW + 1);
      const opens = await influx.query<{ start_time: number }>(`SELECT "start_time" FROM "alerts" WHERE "entity" = '${entity}' AND "state" = 'open'`);
      expect(opens.map((o) => Number(o.start_time)), entity).toContain(T0 + SPIKE_AT * 60_000);
    }
    expect(await countScores(influx, 'java-unmapped')).toBe(0);

    // The frames with the unmapped schema id went to the dead-letter topic, and nothing else did.
    const dead: string[] = [];
    const consumer = kafkaClient().consumer({ groupId: uniqueName('interop-java-dlq') });
    await consumer.connect();
    await consumer.subscribe({ topic: `${framed}.dlq`, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void dead.push(`${message.key}:${message.headers?.[DLQ_HEADERS.code]}`) });
    await waitUntil(() => dead.length >= 3, { what: 'dead letters of the unmapped schema id' });
    await consumer.disconnect();
    expect(dead).toEqual(Array(3).fill('java-unmapped:SCHEMA_UNKNOWN'));
  });
});
