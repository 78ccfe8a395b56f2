/**
 * kafkajs 2.2.4 against the broker the stack ships: the calls diffwatch depends on
 * (acks=-1 produce, consumer groups, manual commits read back by the admin, rebalancing).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Consumer, EachMessagePayload } from 'kafkajs';
import { createTopics, kafkaBrokers, kafkaClient, uniqueName, waitUntil } from '../helpers.ts';

// Short heartbeats and fetch waits: a member notices a rebalance between fetches, so both bound how fast joins and leaves settle.
const GROUP_TIMING = { sessionTimeout: 10_000, heartbeatInterval: 300, rebalanceTimeout: 10_000, maxWaitTimeInMs: 250 };

const consumers: Consumer[] = [];
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.disconnect()));
});

function newConsumer(groupId: string): Consumer {
  const c = kafkaClient().consumer({ groupId, ...GROUP_TIMING });
  consumers.push(c);
  return c;
}

async function produce(topic: string, messages: Array<{ key: string; value: string }>): Promise<void> {
  const producer = kafkaClient().producer();
  await producer.connect();
  try {
    const res = await producer.send({ topic, acks: -1, messages });
    // acks=-1: every partition write is acknowledged with its base offset.
    expect(res.every((r) => r.errorCode === 0)).toBe(true);
  } finally {
    await producer.disconnect();
  }
}

const keyed = (from: number, n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => ({ key: `k${(from + i) % 7}`, value: `${prefix}${from + i}` }));

describe('kafkajs against the stack broker', () => {
  it('produces with acks=-1 and consumes every message in a group, in order per partition', async () => {
    const topic = uniqueName('produce');
    await createTopics(kafkaBrokers(), [topic], 2);
    await produce(topic, keyed(0, 40));

    const seen: Array<{ partition: number; offset: number; key: string; value: string }> = [];
    const consumer = newConsumer(uniqueName('g'));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push({ partition, offset: Number(message.offset), key: message.key!.toString(), value: message.value!.toString() });
      },
    });
    await waitUntil(() => seen.length >= 40, { what: '40 messages consumed' });

    expect(seen.map((m) => m.value).sort()).toEqual(keyed(0, 40).map((m) => m.value).sort());
    // The same key always lands on one partition, and offsets within a partition are consecutive from 0.
    const partitionOfKey = new Map<string, number>();
    for (const m of seen) {
      expect(partitionOfKey.get(m.key) ?? m.partition).toBe(m.partition);
      partitionOfKey.set(m.key, m.partition);
    }
    for (const p of [0, 1]) {
      const offsets = seen.filter((m) => m.partition === p).map((m) => m.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
  });

  it('commits offsets by hand, reads them back with fetchOffsets, and resumes the group from them', async () => {
    const topic = uniqueName('commit');
    const groupId = uniqueName('g');
    await createTopics(kafkaBrokers(), [topic], 1);
    await produce(topic, keyed(0, 10));

    const first = newConsumer(groupId);
    const got: string[] = [];
    await first.connect();
    await first.subscribe({ topic, fromBeginning: true });
    await first.run({
      autoCommit: false,
      eachMessage: async ({ message }: EachMessagePayload) => {
        got.push(message.value!.toString());
      },
    });
    await waitUntil(() => got.length >= 10, { what: '10 messages consumed' });
    // Commit only the first 6 (offsets 0..5): the committed offset is the next one to read.
    await first.commitOffsets([{ topic, partition: 0, offset: '6' }]);

    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(offsets).toEqual([{ topic, partitions: [expect.objectContaining({ partition: 0, offset: '6' })] }]);
    } finally {
      await admin.disconnect();
    }

    await first.disconnect();
    const second = newConsumer(groupId);
    const resumed: string[] = [];
    await second.connect();
    await second.subscribe({ topic, fromBeginning: true });
    await second.run({ eachMessage: async ({ message }) => void resumed.push(message.value!.toString()) });
    await waitUntil(() => resumed.length >= 4, { what: 'the 4 uncommitted messages redelivered' });
    expect(resumed).toEqual(['m6', 'm7', 'm8', 'm9']);
  });

  it('rebalances a 4-partition topic across two members, then gives all partitions to the survivor', async () => {
    const topic = uniqueName('rebalance');
    const groupId = uniqueName('g');
    await createTopics(kafkaBrokers(), [topic], 4);

    const members = ['a', 'b'] as const;
    const assigned: Record<string, number[]> = { a: [], b: [] };
    const received: Record<string, string[]> = { a: [], b: [] };
    const byMember = Object.fromEntries(
      members.map((name) => {
        const c = newConsumer(groupId);
        c.on(c.events.GROUP_JOIN, (e) => {
          assigned[name] = [...(e.payload.memberAssignment[topic] ?? [])].sort();
        });
        return [name, c];
      }),
    ) as Record<'a' | 'b', Consumer>;
    for (const name of members) {
      const c = byMember[name];
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ eachMessage: async ({ message }) => void received[name].push(message.value!.toString()) });
    }
    await waitUntil(() => assigned.a.length > 0 && assigned.b.length > 0 && assigned.a.length + assigned.b.length === 4, { what: 'both members assigned, 4 partitions in all' });
    expect([...assigned.a, ...assigned.b].sort()).toEqual([0, 1, 2, 3]);

    // Spread over all partitions explicitly, so both members have work.
    const batch1 = Array.from({ length: 200 }, (_, i) => ({ partition: i % 4, value: `one-${i}` }));
    const producer = kafkaClient().producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: batch1 });
    await waitUntil(() => received.a.length + received.b.length >= 200, { what: '200 messages across both members' });
    expect(received.a.length).toBeGreaterThan(0);
    expect(received.b.length).toBeGreaterThan(0);
    // Exactly once across the two when nothing fails.
    const all1 = [...received.a, ...received.b];
    expect(new Set(all1).size).toBe(all1.length);
    expect(all1.sort()).toEqual(batch1.map((m) => m.value).sort());

    // a leaves (committing on the way out); b must take over every partition.
    await byMember.a.disconnect();
    await waitUntil(() => assigned.b.length === 4, { what: 'the survivor assigned all 4 partitions' });
    expect(assigned.b).toEqual([0, 1, 2, 3]);
    const before = received.b.length;
    const batch2 = Array.from({ length: 100 }, (_, i) => ({ partition: i % 4, value: `two-${i}` }));
    await producer.send({ topic, acks: -1, messages: batch2 });
    await producer.disconnect();
    await waitUntil(() => received.b.filter((v) => v.startsWith('two-')).length >= 100, { what: 'the survivor consumed the second batch' });
    const after = received.b.slice(before);
    expect(after.filter((v) => v.startsWith('two-')).sort()).toEqual(batch2.map((m) => m.value).sort());
    // a committed before leaving, so nothing of the first batch is read twice.
    expect(after.filter((v) => v.startsWith('one-'))).toEqual([]);
  });
});
