/**
 * An alert is published when its window is judged, not when InfluxDB has room: with InfluxDB hung
 * behind a proxy and the only delivery slot (sinks.maxBatchesInFlight 1) taken by an earlier batch,
 * the spike's `open` event still reaches the anomalies topic. Its messages stay uncommitted until
 * InfluxDB has the points too, so nothing is lost (delivery is at least once; the id is stable).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAnomalyCodec, encodeReading } from '../../../src/ingest/codec/index.ts';
import type { AnomalyEvent } from '../../../src/types.ts';
import { createTopics, kafkaBrokers, kafkaClient, uniqueName, waitUntil } from '../helpers.ts';
import { countScores, exitWithin, influxClient, killAllDiffwatch, startDiffwatch, startTcpProxy, writeConfig } from './runHelpers.ts';

const ENTITY = 'press-1';
const T0 = Date.UTC(2026, 0, 1);

afterEach(killAllDiffwatch);

describe('diffwatch run, alerts while InfluxDB hangs', () => {
  it('publishes the open event of a spike judged while every delivery slot waits on InfluxDB', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueName('hang-telemetry');
    const anomalies = uniqueName('hang-anomalies');
    const database = uniqueName('hang').replace(/-/g, '_');
    await createTopics(brokers, [topic, anomalies], 1);
    const kafka = kafkaClient();
    const producer = kafka.producer();
    await producer.connect();
    const send = (from: number, to: number, value: (i: number) => number) =>
      producer.send({ topic, acks: -1, messages: Array.from({ length: to - from }, (_, k) => from + k).map((i) => ({ key: ENTITY, value: encodeReading({ entityId: ENTITY, timestamp: T0 + i * 1000, values: { v: value(i) } }, 'avro') })) });
    const normal = (i: number) => Math.sin(i / 5) + ((i * 7919) % 13) / 100;

    const proxy = await startTcpProxy();
    const codec = createAnomalyCodec();
    const opened: AnomalyEvent[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('hang-alerts'), maxWaitTimeInMs: 100 });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: anomalies, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void (message.value && opened.push(codec.decode(message.value))) });
      const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: proxy.url, DIFFWATCH_LOG_LEVEL: 'info' };
      const config = writeConfig({
        kafka: { topics: [topic], groupId: uniqueName('hang-group'), commitIntervalMs: 100 },
        stream: { windowLength: 8, hop: 1 },
        scorer: { kind: 'baseline', baseline: { minHistory: 32 } },
        detect: { stateTopic: uniqueName('state'), rules: { silence: { enabled: false } }, threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 0 } },
        sinks: { anomaliesTopic: anomalies, maxBatchesInFlight: 1, influx: { database, flushIntervalMs: 50, timeoutMs: 120_000 } },
      });
      const service = startDiffwatch(['run', '--config', config], env);
      await send(0, 60, normal);
      await service.waitFor(async () => (await countScores(influxClient(database), ENTITY).catch(() => 0)) > 0, { what: 'the first windows durable', timeoutMs: 60_000, intervalMs: 20 });

      // InfluxDB hangs; a batch of normal windows takes the only delivery slot and waits there.
      proxy.setMode('blackhole');
      await send(60, 100, normal);
      await service.waitFor(() => proxy.accepted.blackhole > 0, { what: 'a write sent to the hung InfluxDB', timeoutMs: 30_000, intervalMs: 20 });
      await send(100, 101, () => 1_000);
      await waitUntil(() => opened.some((e) => e.state === 'open' && e.entityId === ENTITY && e.endTime === T0 + 100 * 1000), { timeoutMs: 30_000, what: 'the open event of the spike, with InfluxDB still hung' });
      expect(proxy.accepted.pass).toBeGreaterThan(0);

      // InfluxDB comes back: every window is then written, and the service stops cleanly.
      proxy.setMode('pass');
      await service.waitFor(async () => (await countScores(influxClient(database), ENTITY).catch(() => 0)) === 101 - 8 + 1, { what: 'every window durable', timeoutMs: 60_000, intervalMs: 50 });
      service.kill('SIGTERM');
      const exit = await exitWithin(service, 60_000);
      expect(exit.code, exit.stderr.slice(-4000)).toBe(0);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await proxy.close();
    }
  });
});
