/**
 * Follow a compacted topic from its first offset for as long as the service runs, handing every
 * record to `apply` in offset order per partition: how each instance keeps its view of the
 * models and row topics (kafkaModelStore.ts, rowLog.ts) as fresh as the log, whichever instance
 * wrote a record. `caughtUp()` resolves once everything written before the call has been applied:
 * the barrier an instance waits on before it trusts its view (at start, after a rebalance).
 *
 * kafkajs has no manual assignment, so the follower is the only member of a throwaway group
 * that commits nothing; a fresh group with `fromBeginning` starts at each log start offset
 * (the pattern of stateStore.ts `load`, kept running).
 *
 * Example:
 *   const f = createTopicFollower({ kafka, topic: 'diffwatch.models', apply, log });
 *   await ensureCompactedTopic(kafka, 'diffwatch.models', { 'max.message.bytes': '4194304' }, log);
 *   await f.start();
 *   await f.caughtUp();          // every record written before this line has been applied
 */
import { randomUUID } from 'node:crypto';
import kafkajs, { type Consumer, type Kafka, type KafkaMessage } from 'kafkajs';
import type { Logger } from '../log.ts';
import { ModelStoreError } from './modelRecord.ts';

const { ConfigResourceTypes } = kafkajs;

export interface TopicFollowerOptions {
  kafka: Kafka;
  topic: string;
  /** Called for each record in offset order per partition; the follower waits for it. */
  apply: (partition: number, m: KafkaMessage) => Promise<void> | void;
  log: Logger;
  /** Bytes per partition per fetch: at least the topic's max.message.bytes, so a largest record never waits. Default 1 MiB + 64 KiB. */
  maxBytesPerPartition?: number;
  /** Prefix of the throwaway group. Default `diffwatch-follow`. */
  groupPrefix?: string;
  /** ms `caughtUp` waits before it fails with MODEL_STORE_UNAVAILABLE. Default 60 000. */
  catchUpTimeoutMs?: number;
}

export interface TopicFollower {
  start(): Promise<void>;
  /** Resolves once every record below the end offsets (as of this call) has been applied. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

export function createTopicFollower(opts: TopicFollowerOptions): TopicFollower {
  const { kafka, topic, log } = opts;
  const maxBytesPerPartition = opts.maxBytesPerPartition ?? 1024 * 1024 + 64 * 1024;
  /** Next offset to apply, per partition. */
  const position = new Map<number, bigint>();
  const waiters = new Set<{ ends: Map<number, bigint>; resolve: () => void; reject: (e: Error) => void }>();
  let consumer: Consumer | undefined;

  const reached = (ends: Map<number, bigint>) => [...ends].every(([p, end]) => (position.get(p) ?? 0n) >= end);
  const advance = (partition: number, lastOffset: string) => {
    const next = BigInt(lastOffset) + 1n;
    if (next > (position.get(partition) ?? 0n)) position.set(partition, next);
    for (const w of waiters) if (reached(w.ends)) (waiters.delete(w), w.resolve());
  };

  return {
    async start() {
      const c = kafka.consumer({ groupId: `${opts.groupPrefix ?? 'diffwatch-follow'}-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 500, maxBytesPerPartition, maxBytes: Math.max(10 * 1024 * 1024, 4 * maxBytesPerPartition) });
      // Batches of control records only reach no eachBatch, but still say how far a partition is read.
      c.on(c.events.END_BATCH_PROCESS, (e) => advance(e.payload.partition, e.payload.lastOffset));
      await c.connect();
      consumer = c;
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            await opts.apply(batch.partition, m);
            advance(batch.partition, m.offset);
          }
        },
      });
      log.debug('following topic', { topic });
    },
    async caughtUp() {
      const admin = kafka.admin();
      await admin.connect();
      let offsets;
      try {
        offsets = await admin.fetchTopicOffsets(topic);
      } finally {
        await admin.disconnect();
      }
      const ends = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
      if (reached(ends)) return;
      const ms = opts.catchUpTimeoutMs ?? 60_000;
      await new Promise<void>((resolve, reject) => {
        const fail = (why: string) => {
          waiters.delete(w);
          clearTimeout(timer);
          const behind = Object.fromEntries([...ends].map(([p, end]) => [p, String(end - (position.get(p) ?? 0n))]));
          reject(new ModelStoreError('MODEL_STORE_UNAVAILABLE', `${topic}: ${why}`, { retriable: true, coords: { topic, behind } }));
        };
        const w = { ends, resolve: () => (clearTimeout(timer), resolve()), reject: () => fail('the follower stopped before it caught up') };
        const timer = setTimeout(() => fail(`not caught up with the log after ${ms} ms; is the broker reachable?`), ms);
        timer.unref();
        waiters.add(w);
      });
    },
    async stop() {
      const c = consumer;
      consumer = undefined;
      for (const w of waiters) w.reject(new Error('stopped'));
      await c?.disconnect();
    },
  };
}

/**
 * Create `topic` compacted with `config` when missing; warn (with the fix) when an existing one is
 * not compacted or holds records smaller than `config['max.message.bytes']`.
 */
export async function ensureCompactedTopic(kafka: Kafka, topic: string, config: Record<string, string>, log: Logger, partitions = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      const replicationFactor = Math.min(3, (await admin.describeCluster()).brokers.length);
      const configEntries = Object.entries({ 'cleanup.policy': 'compact', ...config }).map(([name, value]) => ({ name, value }));
      // false: another instance created it meanwhile; checked below like any existing topic.
      if (await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor, configEntries }], waitForLeaders: true })) {
        return log.info('topic created', { topic, partitions, replicationFactor, config: Object.fromEntries(configEntries.map((e) => [e.name, e.value])) });
      }
    }
    const res = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy', 'max.message.bytes'] }], includeSynonyms: false });
    const entry = (name: string) => res.resources[0]?.configEntries.find((e) => e.configName === name)?.configValue;
    const fix = (kv: string) => `kafka-configs.sh --bootstrap-server <brokers> --alter --entity-type topics --entity-name ${topic} --add-config ${kv}`;
    if (!(entry('cleanup.policy') ?? 'delete').split(',').includes('compact')) log.warn('topic is not compacted: retention will delete what it holds', { topic, cleanupPolicy: entry('cleanup.policy'), fix: fix('cleanup.policy=compact') });
    const want = config['max.message.bytes'];
    if (want && Number(entry('max.message.bytes') ?? 0) < Number(want)) log.warn('topic takes smaller records than diffwatch writes', { topic, maxMessageBytes: entry('max.message.bytes'), needed: want, fix: fix(`max.message.bytes=${want}`) });
  } finally {
    await admin.disconnect();
  }
}
