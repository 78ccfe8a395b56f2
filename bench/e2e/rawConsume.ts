/**
 * The consume ceiling: how fast kafkajs alone reads the benchmark's topic on this machine, with
 * the service's fetch settings, a fresh group, `eachBatch`, and no decoding or processing. It is
 * what the service's throughput is divided by: the share of the broker-to-process rate the
 * pipeline keeps.
 */
import type { Kafka } from 'kafkajs';
import type { KafkaConfig } from '../../src/config/kafkaSchema.ts';
import { waitFor } from '../../src/stack/waitFor.ts';
import { arrivalRate, type RateMeter } from './rate.ts';

export async function rawConsumeRate(kafka: Kafka, topic: string, groupId: string, total: number, cfg: KafkaConfig): Promise<RateMeter> {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: cfg.sessionTimeoutMs,
    heartbeatInterval: cfg.heartbeatIntervalMs,
    maxWaitTimeInMs: cfg.maxWaitTimeMs,
    maxBytesPerPartition: cfg.maxBytesPerPartition,
    allowAutoTopicCreation: false,
  });
  // The clock starts when the group is joined: the first fetch is part of the cost, the join is not.
  const meter = arrivalRate();
  consumer.on(consumer.events.GROUP_JOIN, () => meter.start());
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachBatch: async ({ batch }) => meter.add(batch.messages.length) });
    await waitFor(async () => meter.count >= total || undefined, { timeoutMs: 10 * 60_000, intervalMs: 20, what: `${total} messages consumed raw` });
  } finally {
    await consumer.disconnect();
  }
  return meter;
}
