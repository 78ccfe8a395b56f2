/**
 * Consumer lag per partition: the broker's log-end offset minus the group's committed offset
 * (admin.fetchTopicOffsets and admin.fetchOffsets). A partition with nothing committed yet lags
 * by everything it holds (log end − log start). Only the partitions this instance owns are
 * reported, so the sum over instances is the group's lag.
 *
 * @example
 * const rows = await fetchConsumerLag(admin, 'diffwatch', [{ topic: 'readings', partition: 0 }]);
 * // [{ topic: 'readings', partition: 0, lag: 12 }]
 */
import type { Admin } from 'kafkajs';
import type { PartitionRef } from '../ingest/flowControl.ts';

export interface PartitionLag extends PartitionRef {
  /** Messages. */
  lag: number;
}

export interface TopicEnds {
  partition: number;
  /** Log-end offset (the next offset to be written), decimal string. */
  high: string;
  /** Log-start offset, decimal string. */
  low: string;
}

/** Lag of each owned partition from the topic ends and the committed offsets ('-1': none). */
export function lagOf(owned: readonly PartitionRef[], ends: ReadonlyMap<string, readonly TopicEnds[]>, committed: ReadonlyMap<string, ReadonlyMap<number, string>>): PartitionLag[] {
  const out: PartitionLag[] = [];
  for (const { topic, partition } of owned) {
    const end = ends.get(topic)?.find((e) => e.partition === partition);
    if (!end) continue;
    const c = BigInt(committed.get(topic)?.get(partition) ?? '-1');
    const from = c < 0n ? BigInt(end.low) : c;
    const lag = BigInt(end.high) - from;
    out.push({ topic, partition, lag: Number(lag > 0n ? lag : 0n) });
  }
  return out;
}

export async function fetchConsumerLag(admin: Admin, groupId: string, owned: readonly PartitionRef[]): Promise<PartitionLag[]> {
  const topics = [...new Set(owned.map((p) => p.topic))];
  if (topics.length === 0) return [];
  const ends = new Map<string, TopicEnds[]>();
  await Promise.all(topics.map(async (t) => ends.set(t, await admin.fetchTopicOffsets(t))));
  const committed = new Map<string, Map<number, string>>();
  for (const t of await admin.fetchOffsets({ groupId, topics })) committed.set(t.topic, new Map(t.partitions.map((p) => [p.partition, p.offset])));
  return lagOf(owned, ends, committed);
}
