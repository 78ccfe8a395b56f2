/**
 * A service run on a unique topic, read back through /metrics as Prometheus reads it: the counts
 * match what the run did, and the pipeline-health points reach InfluxDB.
 */
import { hostname } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { InfluxDB } from 'influx';
import { Partitioners } from 'kafkajs';
import { setLogSink } from '../../../src/log.ts';
import { METRICS } from '../../../src/metrics.ts';
import { INTERNAL_FIELDS, INTERNAL_MEASUREMENT, INTERNAL_TAGS } from '../../../src/ops/internalMeasurement.ts';
import type { Service } from '../../../src/service/pipeline.ts';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, uniqueName, waitUntil } from '../helpers.ts';
import { get, opsTestConfig, produceReadings, scrape, startTestService } from './opsHelpers.ts';

const N = 40; // readings of one entity
const L = 8; // window length, hop 1: N - L + 1 windows

const lines: string[] = [];
const previousSink = setLogSink((line) => {
  lines.push(line);
  previousSink(line);
});
let service: Service | undefined;

afterAll(async () => {
  await service?.stop('test over');
  setLogSink(previousSink);
});

describe('GET /metrics after a run', () => {
  it('counts what the run consumed, scored and dead-lettered; the lag drains to 0; latency is observed once per window', async () => {
    const topic = uniqueName('ops-metrics');
    const database = uniqueName('ops').replaceAll('-', '_');
    await createTopics(kafkaBrokers(), [topic], 1);
    const kafka = kafkaClient();
    await produceReadings(kafka, topic, 'pump-1', N);
    // kafkajs warns once per process, on the first producer without a partitioner: the test's own choose one too.
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'pump-1', value: Buffer.from('this is not avro') }] });
    await producer.disconnect();

    const cfg = opsTestConfig({ brokers: kafkaBrokers(), influxUrl: influxUrl(), topic, groupId: uniqueName('g'), database, internalIntervalMs: 1_000 });
    service = await startTestService(cfg);
    const s = service;
    expect(s.httpAddress()?.port).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('operator endpoint listening') && l.includes(s.httpAddress()!.url))).toBe(true);

    const windows = N - L + 1;
    await waitUntil(async () => (await scrape(s)).sum(METRICS.windowsScored) >= windows, { timeoutMs: 60_000, what: `${windows} windows scored` });
    // The entity goes idle: its last L - 1 readings are released, committed, and the lag drains.
    await waitUntil(async () => (await scrape(s)).value(METRICS.consumerLag, { topic, partition: '0' }) === 0, { timeoutMs: 30_000, what: 'consumer lag 0' });

    const m = await scrape(s);
    expect(m.value(METRICS.messagesConsumed, { topic })).toBe(N + 1);
    expect(m.value(METRICS.readingsDecoded, { topic })).toBe(N);
    expect(m.value(METRICS.deadLettered, { code: 'DECODE_FAILED' })).toBe(1);
    expect(m.sum(METRICS.windowsScored)).toBe(windows);
    expect(m.sum(METRICS.discardedReadings)).toBe(L - 1);
    expect(m.histogram(METRICS.endToEndLatency).count).toBe(windows);
    expect(m.histogram(METRICS.modelBatchSize).sum).toBe(windows);
    expect(m.histogram(METRICS.modelCallDuration).count).toBe(m.histogram(METRICS.modelBatchSize).count);
    expect(m.sum(METRICS.entities)).toBe(1);
    expect(m.sum(METRICS.models)).toBe(1);
    expect(m.value(METRICS.influxBufferPoints)).toBe(0);
    expect(m.families.has('process_cpu_user_seconds_total')).toBe(true);
    expect(m.families.get(METRICS.endToEndLatency)?.type).toBe('HISTOGRAM');

    expect((await get(s, '/healthz')).status).toBe(200);
    await waitUntil(async () => (await get(s, '/readyz')).status === 200, { timeoutMs: 15_000, what: '/readyz 200' });
    expect((await scrape(s)).value(METRICS.ready, { check: 'all' })).toBe(1);

    // kafkajs warns on every producer without an explicit partitioner; every producer here has one.
    expect(lines.filter((l) => /partitioner/i.test(l))).toEqual([]);

    await s.stop('test over');
    await s.done;

    // Each point holds its interval's dead letters: over the run they sum to the one sent.
    const u = new URL(influxUrl());
    const influx = new InfluxDB({ host: u.hostname, port: Number(u.port), database });
    const instance = `${hostname()}:${process.pid}`;
    const rows = await influx.query<Record<string, number>>(
      `SELECT sum("${INTERNAL_FIELDS.deadLettered}") AS dlq, max("${INTERNAL_FIELDS.windowsPerSecond}") AS wps, count("${INTERNAL_FIELDS.readingsPerSecond}") AS points FROM "${INTERNAL_MEASUREMENT}" WHERE "${INTERNAL_TAGS.instance}" = '${instance}'`,
    );
    expect(rows[0]?.dlq).toBe(1);
    expect(rows[0]?.wps).toBeGreaterThan(0);
    expect(rows[0]?.points).toBeGreaterThanOrEqual(1);
    const last = await influx.query<Record<string, number>>(`SELECT last("${INTERNAL_FIELDS.lagMessages}") AS lag FROM "${INTERNAL_MEASUREMENT}" WHERE "${INTERNAL_TAGS.instance}" = '${instance}'`);
    expect(last[0]?.lag).toBe(0);
  });
});
