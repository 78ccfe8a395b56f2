/**
 * Waiting, without a blind sleep, until the broker's time-based retention has had its chance to
 * delete what was produced before the call.
 *
 * The broker runs one retention pass over every partition each `log.retention.check.interval.ms`
 * (5 s in the stack, src/stack/serverProperties.ts); a pass deletes the segments whose newest
 * message timestamp is older than the topic's `retention.ms`, the active segment included. Passes
 * never overlap (one scheduled task), but the order of partitions within a pass is unspecified.
 *
 * So a canary, a message stamped in the past on a topic of its own, is deleted by the first pass
 * that reaches it. Three canaries, each produced once the one before is gone, are deleted in
 * passes N, >= N+1 and >= N+2: pass N+1 started after canary 1 was gone (after this call), and it
 * had finished when canary 3 went. That pass saw every partition with what was produced before
 * the call, so anything old enough to be deleted is gone by the time this resolves.
 */
import type { Admin, Kafka } from 'kafkajs';
import { uniqueName, waitUntil } from '../helpers.ts';

/** ms a canary waits for its pass: two check intervals of the stack, with room for a slow machine. */
const CANARY_TIMEOUT_MS = 30_000;

async function logStart(admin: Admin, topic: string): Promise<{ low: string; high: string }> {
  const [p] = await admin.fetchTopicOffsets(topic);
  return { low: p.low, high: p.high };
}

/** Resolves after a complete retention pass that began after the call; returns how long it took (ms). */
export async function waitForRetentionPass(kafka: Kafka): Promise<number> {
  const t0 = Date.now();
  const topic = uniqueName('retention-canary');
  const admin = kafka.admin();
  const producer = kafka.producer();
  await Promise.all([admin.connect(), producer.connect()]);
  try {
    // The canary is an hour old on a topic that keeps one minute: any pass deletes it.
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '60000' }] }] });
    for (let canary = 1; canary <= 3; canary++) {
      await producer.send({ topic, acks: -1, messages: [{ value: `canary ${canary}`, timestamp: String(Date.now() - 3_600_000) }] });
      await waitUntil(
        async () => {
          const { low, high } = await logStart(admin, topic);
          return low === high;
        },
        { timeoutMs: CANARY_TIMEOUT_MS, intervalMs: 100, what: `retention deleting canary ${canary} of ${topic} (is log.retention.check.interval.ms low? restart the stack after changing it)` },
      );
    }
    await admin.deleteTopics({ topics: [topic] });
  } finally {
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  }
  return Date.now() - t0;
}
