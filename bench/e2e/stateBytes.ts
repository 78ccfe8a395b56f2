/**
 * The bytes an instance taking over must read to restore every entity's detector state: the
 * newest record of each key in the compacted state topic (what compaction converges to), read
 * once the service has stopped and written its final snapshots.
 */
import type { Kafka } from 'kafkajs';
import { waitFor } from '../../src/stack/waitFor.ts';
import { uniqueName } from '../common.ts';

export async function stateTopicBytes(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    if (!(await admin.listTopics()).includes(topic)) return 0;
    ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.disconnect();
  }
  const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
  if (pending.size === 0) return 0;
  const newest = new Map<string, number>();
  const groupId = uniqueName('e2e-state-read');
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const key = message.key?.toString('utf8') ?? '';
        if (message.value === null) newest.delete(key);
        else newest.set(key, key.length + message.value.length);
        if (BigInt(message.offset) + 1n >= ends.get(partition)!) pending.delete(partition);
      },
    });
    await waitFor(async () => pending.size === 0 || undefined, { timeoutMs: 120_000, intervalMs: 20, what: `the state topic ${topic} read to its end` });
  } finally {
    await consumer.disconnect();
    const a = kafka.admin();
    await a.connect();
    await a.deleteGroups([groupId]).catch(() => undefined);
    await a.disconnect();
  }
  return [...newest.values()].reduce((a, b) => a + b, 0);
}
