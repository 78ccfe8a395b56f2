/**
 * A subscriber on the anomalies topic, as an alerting service would run one: it records when
 * each `open` event reached it, so that the benchmark can time produce → alert.
 */
import type { Kafka } from 'kafkajs';
import { createAnomalyCodec } from '../../src/ingest/codec/index.ts';
import { waitFor } from '../../src/stack/waitFor.ts';

export interface ReceivedAlert {
  entityId: string;
  /** Event time of the window that opened the incident, ms. */
  endTime: number;
  receivedMs: number;
  kind: string;
  score: number;
  threshold: number;
}

export interface AlertWatch {
  opened: ReceivedAlert[];
  stop(): Promise<void>;
}

/** Subscribes from the start of the topic and resolves once the consumer has its partitions. */
export async function watchAlerts(kafka: Kafka, topic: string, groupId: string): Promise<AlertWatch> {
  const codec = createAnomalyCodec();
  const opened: ReceivedAlert[] = [];
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  let assigned = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (assigned = true));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const receivedMs = Date.now();
      if (!message.value) return;
      const e = codec.decode(message.value);
      if (e.state === 'open') opened.push({ entityId: e.entityId, endTime: e.endTime, receivedMs, kind: e.kind, score: e.score, threshold: e.threshold });
    },
  });
  await waitFor(async () => assigned || undefined, { timeoutMs: 60_000, intervalMs: 20, what: 'the alert subscriber to join its group' });
  return { opened, stop: () => consumer.disconnect() };
}
