/**
 * Read one entity's readings between two event times from a telemetry topic, once, for
 * offline training. Nothing is committed: the consumer uses a throwaway group id with
 * auto-commit off, so the service's group and offsets are never touched.
 *
 * Where to start: `admin.fetchTopicOffsetsByTimestamp(topic, from)` gives, per partition, the
 * first offset whose broker timestamp is ≥ `from`. A reading is produced after it happens, so
 * its broker timestamp is ≥ its event time and nothing at or after `from` lies before that
 * offset. Where to stop, per partition: at the end offset captured when reading starts, or at
 * the entity's first reading whose event time is past `to + allowedLatenessMs`: its later
 * readings can only be later still, up to the lateness the stream tolerates anyway. Only the
 * entity's own readings say that: other entities on the partition may run ahead of it (a replay
 * of one entity's history after another's, a producer that lags), so theirs stop nothing.
 *
 * A topic that does not exist is a `DiffwatchError('TOPIC_NOT_FOUND')` naming it, before any
 * consumer joins (kafkajs would retry the metadata request for ~10 s and throw its own error).
 *
 * Example:
 *   const rows = await readTopicRange({ kafka, topic: 'telemetry', entityId: 'm-1', fromMs, toMs, decode, log });
 */
import type { Kafka } from 'kafkajs';
import { DiffwatchError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SensorReading, SourceCoord } from '../types.ts';

export interface ReadTopicRangeOptions {
  kafka: Kafka;
  topic: string;
  entityId: string;
  /** Event-time range, epoch ms, both ends inclusive. */
  fromMs: number;
  toMs: number;
  /** ms a reading may arrive after later ones; the read runs this far past `toMs`. Default 0. */
  allowedLatenessMs?: number;
  decode(value: Buffer | null, source: SourceCoord): SensorReading;
  log: Logger;
  /** ms without any message before giving up on partitions that have not reached their end. Default 30 000. */
  idleTimeoutMs?: number;
}

export interface TopicRange {
  /** The entity's readings, sorted by event time; for equal times the one read last wins. */
  readings: SensorReading[];
  /** Messages read, of every entity. */
  messages: number;
  /** Messages that could not be decoded (skipped, counted). */
  undecodable: number;
}

interface PartitionPlan {
  partition: number;
  start: bigint;
  /** Exclusive end: the high watermark when reading started. */
  end: bigint;
}

async function plan(kafka: Kafka, topic: string, fromMs: number): Promise<PartitionPlan[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      throw new DiffwatchError('TOPIC_NOT_FOUND', `topic ${topic} does not exist: check the topic name and the brokers, or replay readings to it first`, { coords: { topic } });
    }
    const ends = await admin.fetchTopicOffsets(topic);
    const starts = await admin.fetchTopicOffsetsByTimestamp(topic, fromMs);
    return ends
      .map(({ partition, high }) => {
        // -1 means no message at or after the timestamp: start at the end, so nothing is read.
        const raw = starts.find((s) => s.partition === partition)?.offset ?? high;
        return { partition, start: BigInt(raw === '-1' ? high : raw), end: BigInt(high) };
      })
      .filter((p) => p.start < p.end);
  } finally {
    await admin.disconnect();
  }
}

function byTimeDeduped(readings: SensorReading[]): SensorReading[] {
  const byTime = new Map<number, SensorReading>();
  for (const r of readings) byTime.set(r.timestamp, r);
  return [...byTime.values()].sort((a, b) => a.timestamp - b.timestamp);
}

export async function readTopicRange(opts: ReadTopicRangeOptions): Promise<TopicRange> {
  const { kafka, topic, entityId, fromMs, toMs, decode, log } = opts;
  const stopAfter = toMs + (opts.allowedLatenessMs ?? 0);
  const partitions = await plan(kafka, topic, fromMs);
  const out: TopicRange = { readings: [], messages: 0, undecodable: 0 };
  if (partitions.length === 0) return out;

  const open = new Set(partitions.map((p) => p.partition));
  const consumer = kafka.consumer({ groupId: `diffwatch-train-${process.pid}-${Date.now()}`, allowAutoTopicCreation: false });
  await consumer.connect();
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const close = (partition: number) => {
    open.delete(partition);
    if (open.size === 0) finish();
  };
  let idle: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      log.warn('topic range read stopped on idle', { topic, open: [...open], idleTimeoutMs: opts.idleTimeoutMs ?? 30_000 });
      finish();
    }, opts.idleTimeoutMs ?? 30_000);
  };
  try {
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, isRunning }) => {
        touch();
        const p = partitions.find((x) => x.partition === batch.partition);
        if (!p || !open.has(p.partition)) return;
        for (const m of batch.messages) {
          if (!isRunning() || BigInt(m.offset) >= p.end) return close(p.partition);
          out.messages++;
          let r: SensorReading;
          try {
            r = decode(m.value, { topic, partition: p.partition, offset: m.offset });
          } catch {
            out.undecodable++;
            continue;
          }
          if (r.entityId === entityId && r.timestamp > stopAfter) return close(p.partition);
          if (r.entityId === entityId && r.timestamp >= fromMs && r.timestamp <= toMs) out.readings.push(r);
          if (BigInt(m.offset) + 1n >= p.end) return close(p.partition);
        }
      },
    });
    for (const p of partitions) consumer.seek({ topic, partition: p.partition, offset: p.start.toString() });
    touch();
    await finished;
  } finally {
    clearTimeout(idle);
    await consumer.disconnect();
  }
  out.readings = byTimeDeduped(out.readings);
  log.info('topic range read', { topic, entityId, fromMs, toMs, messages: out.messages, readings: out.readings.length, undecodable: out.undecodable });
  return out;
}
