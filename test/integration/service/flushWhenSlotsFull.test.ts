/**
 * The InfluxDB writer flushes as soon as every delivery slot waits on it, not when its timer
 * fires: a live stream fills no request by size, so waiting for the timer would hold the service
 * to sinks.maxBatchesInFlight batches per flushIntervalMs. Here the timer is 10 minutes and there
 * is one slot, so every batch takes all of them: every window must still be durable within a
 * minute, batch after batch. (With free slots left a batch may wait for the timer: that is what
 * the timer is for.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeReading } from '../../../src/ingest/codec/index.ts';
import { createTopics, kafkaBrokers, kafkaClient, uniqueName } from '../helpers.ts';
import { countScores, exitWithin, influxClient, killAllDiffwatch, startDiffwatch, writeConfig } from './runHelpers.ts';

const ENTITY = 'mixer-1';
const T0 = Date.UTC(2026, 0, 1);
const WINDOW = 8;

afterEach(killAllDiffwatch);

describe('diffwatch run, InfluxDB writer with every slot taken', () => {
  it('writes each batch without waiting for the flush timer', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueName('slots-telemetry');
    const database = uniqueName('slots').replace(/-/g, '_');
    await createTopics(brokers, [topic], 1);
    const producer = kafkaClient().producer();
    await producer.connect();
    const send = (from: number, to: number) =>
      producer.send({ topic, acks: -1, messages: Array.from({ length: to - from }, (_, k) => from + k).map((i) => ({ key: ENTITY, value: encodeReading({ entityId: ENTITY, timestamp: T0 + i * 1000, values: { v: Math.sin(i / 5) } }, 'avro') })) });
    try {
      const config = writeConfig({
        kafka: { topics: [topic], groupId: uniqueName('slots-group'), commitIntervalMs: 100 },
        stream: { windowLength: WINDOW, hop: 1 },
        scorer: { kind: 'baseline', baseline: { minHistory: 32 }, microBatchSize: 4 },
        detect: { stateTopic: uniqueName('state'), rules: { silence: { enabled: false } } },
        sinks: { anomaliesTopic: uniqueName('slots-anomalies'), maxBatchesInFlight: 1, influx: { database, flushIntervalMs: 600_000 } },
      });
      const service = startDiffwatch(['run', '--config', config], { KAFKA_BROKERS: brokers.join(','), DIFFWATCH_LOG_LEVEL: 'info' });
      const durable = (n: number, what: string) => service.waitFor(async () => (await countScores(influxClient(database), ENTITY).catch(() => 0)) === n, { what, timeoutMs: 60_000, intervalMs: 50 });
      await send(0, 40);
      await durable(40 - WINDOW + 1, 'the first 33 windows, with a 10-minute flush timer');
      // A second stretch after the first is durable: the writer flushed again, not once at start.
      await send(40, 80);
      await durable(80 - WINDOW + 1, 'all 73 windows');
      service.kill('SIGTERM');
      const exit = await exitWithin(service, 60_000);
      expect(exit.code, exit.stderr.slice(-4000)).toBe(0);
    } finally {
      await producer.disconnect();
    }
  });
});
