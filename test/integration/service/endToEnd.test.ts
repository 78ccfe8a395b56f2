/**
 * The whole data plane against the real broker and database: replay two NAB series (one as Avro,
 * one as JSON, on two topics matched by a regex) plus poison messages, run
 * `diffwatch run --until-idle`, then check InfluxDB, the dead-letter topic, the anomalies topic
 * and the group's committed offsets.
 */
import { join } from 'node:path';
import { InfluxDB } from 'influx';
import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../../src/ingest/deadLetter.ts';
import { createAnomalyCodec, defaultReadingType } from '../../../src/ingest/codec/index.ts';
import { readCsvSeries } from '../../../src/ingest/csvSeries.ts';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, uniqueName, waitUntil } from '../helpers.ts';
import { ROOT, runDiffwatch as diffwatch, writeConfig } from './runHelpers.ts';

const WINDOW = 32;

describe('diffwatch run, end to end', () => {
  it('scores every complete window once, dead-letters poison, emits decodable alerts and commits to the end', async () => {
    const brokers = kafkaBrokers();
    // Two telemetry topics matched by one regex: Avro on one, JSON on the other.
    const prefix = uniqueName('e2e-telemetry');
    const topic = `${prefix}-avro`;
    const jsonTopic = `${prefix}-json`;
    const dlq = `${topic}.dlq`;
    const anomalies = uniqueName('e2e-anomalies');
    const groupId = uniqueName('e2e-group');
    const database = uniqueName('e2e').replace(/-/g, '_');
    await createTopics(brokers, [topic, jsonTopic], 2);
    await createTopics(brokers, [dlq, anomalies], 1);
    const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'warn' };

    // Two real series, one entity each.
    const series = [
      { entity: 'ec2-latency', file: join(ROOT, 'data/nab/ec2_request_latency_system_failure.csv'), limit: 4032, topic, format: 'avro' },
      { entity: 'ambient-temp', file: join(ROOT, 'data/nab/ambient_temperature_system_failure.csv'), limit: 3000, topic: jsonTopic, format: 'json' },
    ];
    for (const s of series) {
      const r = await diffwatch(['replay', '--file', s.file, '--topic', s.topic, '--format', s.format, '--entity', s.entity, '--limit', String(s.limit)], env);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).readings).toBe(s.limit);
    }

    // Poison: each is sent alone so its offset is known exactly.
    const readingType = defaultReadingType();
    const big: Record<string, number> = {};
    for (let i = 0; i < 400; i++) big[`channel_${i}`] = i;
    const poison = [
      { code: 'DECODE_FAILED', key: 'ec2-latency', value: Buffer.from('this is not avro') },
      { code: 'DECODE_FAILED', key: 'ec2-latency', value: null },
      { code: 'NON_FINITE_VALUE', key: 'ec2-latency', value: readingType.toBuffer({ entityId: 'ec2-latency', timestamp: Date.UTC(2014, 3, 1), values: { value: Number.NaN }, tags: null }) },
      { code: 'RECORD_INVALID', key: 'ec2-latency', value: readingType.toBuffer({ entityId: '', timestamp: Date.UTC(2014, 3, 1), values: { value: 1 }, tags: null }) },
      { code: 'MESSAGE_TOO_LARGE', key: 'ec2-latency', value: readingType.toBuffer({ entityId: 'ambient-temp', timestamp: Date.UTC(2014, 3, 1), values: big, tags: null }) },
    ];
    const kafka = kafkaClient();
    const producer = kafka.producer();
    await producer.connect();
    const expectedDlq = new Map<string, string>();
    for (const p of poison) {
      const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: p.key, value: p.value, headers: { origin: 'test' } }] });
      expectedDlq.set(`${meta.partition}/${meta.baseOffset}`, p.code);
    }
    await producer.disconnect();

    const config = {
      kafka: { topics: [], topicPattern: `^${prefix}-(avro|json)$`, groupId, commitIntervalMs: 200 },
      ingest: { format: 'avro', formats: { [jsonTopic]: 'json' }, maxMessageBytes: 4096 },
      stream: { windowLength: WINDOW, hop: 1, entityIdleMs: 1_500 },
      scorer: { kind: 'baseline' },
      detect: { stateTopic: uniqueName('state'), threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 0 } },
      sinks: { anomaliesTopic: anomalies, influx: { database, flushIntervalMs: 100 } },
    };
    const cfgFile = writeConfig(config);
    const run = await diffwatch(['run', '--config', cfgFile, '--until-idle', '4'], env);
    expect(run.code, run.stderr.slice(-4000)).toBe(0);

    // 1. Every complete window was scored once: N - L + 1 windows per entity (hop 1). A point's
    // identity in InfluxDB is its timestamp, and the EC2 series repeats one timestamp 12 times
    // (a clock change), so the exact count is of distinct window end times.
    const influx = new InfluxDB({ host: new URL(influxUrl()).hostname, port: Number(new URL(influxUrl()).port), database });
    for (const s of series) {
      const ts = readCsvSeries(s.file).timestamps.slice(0, s.limit);
      const windowEnds = new Set(Array.from(ts.slice(WINDOW - 1)));
      const rows = await influx.query<{ count: number }>(`SELECT count("score") AS count FROM "scores" WHERE "entity" = '${s.entity}'`);
      expect(rows[0]?.count, s.entity).toBe(windowEnds.size);
      if (s.entity === 'ambient-temp') expect(windowEnds.size).toBe(s.limit - WINDOW + 1);
    }

    // 2. Every poison message is in the DLQ with its coordinates and code.
    const dead = new Map<string, { code: string; topic: string; origin: string }>();
    const dlqConsumer = kafka.consumer({ groupId: uniqueName('e2e-dlq-reader') });
    await dlqConsumer.connect();
    await dlqConsumer.subscribe({ topic: dlq, fromBeginning: true });
    await dlqConsumer.run({
      eachMessage: async ({ message }) => {
        const h = (k: string) => message.headers?.[k]?.toString() ?? '';
        dead.set(`${h(DLQ_HEADERS.partition)}/${h(DLQ_HEADERS.offset)}`, { code: h(DLQ_HEADERS.code), topic: h(DLQ_HEADERS.topic), origin: h('origin') });
      },
    });
    await waitUntil(() => dead.size >= expectedDlq.size, { timeoutMs: 30_000, what: 'dead letters' });
    await dlqConsumer.disconnect();
    expect(dead.size).toBe(expectedDlq.size);
    for (const [coord, code] of expectedDlq) expect(dead.get(coord), coord).toEqual({ code, topic, origin: 'test' });

    // 3. Alerts decode with the schema, and InfluxDB holds the same events.
    const codec = createAnomalyCodec();
    const events: ReturnType<typeof codec.decode>[] = [];
    const admin = kafka.admin();
    await admin.connect();
    const [{ high: anomalyCount }] = await admin.fetchTopicOffsets(anomalies);
    const alertConsumer = kafka.consumer({ groupId: uniqueName('e2e-alert-reader') });
    await alertConsumer.connect();
    await alertConsumer.subscribe({ topic: anomalies, fromBeginning: true });
    await alertConsumer.run({ eachMessage: async ({ message }) => void events.push(codec.decode(message.value!)) });
    await waitUntil(() => events.length >= Number(anomalyCount), { timeoutMs: 30_000, what: 'anomaly events' });
    await alertConsumer.disconnect();
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    for (const e of events) expect(series.map((s) => s.entity)).toContain(e.entityId);
    const [alertRows] = [await influx.query<{ count: number }>(`SELECT count("event_id") AS count FROM "alerts"`)];
    expect(alertRows[0]?.count).toBe(events.length);

    // 4. The group's committed offsets reached the end of every partition of both topics.
    for (const t of [topic, jsonTopic]) {
      const ends = await admin.fetchTopicOffsets(t);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [t] });
      for (const end of ends) {
        const c = committed.partitions.find((p) => p.partition === end.partition);
        // An empty partition has nothing to commit (kafkajs reports -1 for "no committed offset").
        const expected = end.high === '0' ? '-1' : end.high;
        expect(c?.offset, `${t} partition ${end.partition}`).toBe(expected);
      }
    }
    await admin.disconnect();
  });
});
