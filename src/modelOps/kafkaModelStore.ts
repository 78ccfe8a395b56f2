/**
 * The model store of a deployment with several instances: the models topic (compacted, keyed by
 * model key) is the truth, the local model store (modelStore.ts) its cache.
 *
 *   commit:  version folder ─ packVersion ─▶ topic (acks -1) ─▶ local folder + CURRENT
 *   follow:  topic ─▶ check SHA-256 ─▶ local folder + CURRENT ─▶ onRemote(key, version)
 *   live:    catch up with the topic ─▶ the local CURRENT (a version only the cache has is published)
 *
 * Every instance follows the whole topic from its start, so an instance that takes over a
 * partition finds the models of its entities already in its cache: no second cold start. A
 * record whose hash does not match its header is rejected (MODEL_HASH_MISMATCH, logged), and
 * the key keeps the last version that checked out. Framing and headers: modelRecord.ts.
 *
 * Sizes: a checkpoint is 100–200 kB; records go whole (no chunking), so the topic is created
 * with `max.message.bytes` = 4 MiB and the follower fetches up to that per partition. A
 * version that frames to more is refused before it is sent (MODEL_TOO_LARGE).
 *
 * Example:
 *   const store = await openKafkaModelStore({ kafka, topic: 'diffwatch.models', local: createModelStore('models'), log });
 *   const live = await store.live('entity:pump-7');     // { version, dir } or undefined
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import kafkajs, { type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import type { Logger } from '../log.ts';
import { ModelStoreError, packVersion, readModelRecord, recordHeaders, unpackVersion } from './modelRecord.ts';
import type { ModelStore } from './modelStore.ts';
import { createTopicFollower, ensureCompactedTopic } from './topicFollower.ts';

/** Largest record of the models topic, and the topic's `max.message.bytes`: 20× a large checkpoint. */
export const MODEL_RECORD_MAX_BYTES = 4 * 1024 * 1024;
/** Room for the key, headers and batch framing within MODEL_RECORD_MAX_BYTES. */
const RECORD_OVERHEAD_BYTES = 16 * 1024;

export const MODEL_TOPIC_CONFIG: Readonly<Record<string, string>> = Object.freeze({
  'cleanup.policy': 'compact',
  'max.message.bytes': String(MODEL_RECORD_MAX_BYTES),
});

export interface KafkaModelStoreOptions {
  kafka: Kafka;
  /** The models topic, e.g. `diffwatch.models`. */
  topic: string;
  /** The local cache. */
  local: ModelStore;
  log: Logger;
  /** A version another instance wrote is in the cache (called after its CURRENT is set). */
  onRemote?: (key: string, version: string) => void;
  /** ms a `live` waits for the topic before failing. Default 60 000. */
  catchUpTimeoutMs?: number;
}

export interface KafkaModelStore extends ModelStore {
  /** Records rejected so far (hash mismatch, broken framing). */
  rejected(): number;
}

export async function openKafkaModelStore(opts: KafkaModelStoreOptions): Promise<KafkaModelStore> {
  const { kafka, topic, local, log } = opts;
  /** This process's records, which the follower finds already in the cache. */
  const writer = randomUUID();
  /** Latest version per key that checked out, as the follower has read so far. */
  const latest = new Map<string, string>();
  let rejected = 0;
  let producer: Producer | undefined;
  let synced: Promise<void> | undefined;

  async function cache(key: string, files: Map<string, Buffer>, version: string): Promise<void> {
    const staging = local.staging(key);
    if (!existsSync(join(local.dirOf(key), version))) await unpackVersion(files, staging);
    await local.commit(key, staging, version);
  }

  async function apply(partition: number, m: KafkaMessage): Promise<void> {
    const key = m.key?.toString('utf8');
    if (!key) return;
    if (m.value === null) {
      // An operator's tombstone starts the key over everywhere: the cache no longer names a live version.
      latest.delete(key);
      await rm(join(local.dirOf(key), 'CURRENT'), { force: true });
      return;
    }
    try {
      const rec = readModelRecord(key, m.value, m.headers, { topic, partition, offset: m.offset });
      latest.set(key, rec.version);
      if (rec.writer === writer) return; // committed here before it was sent
      await cache(key, rec.files, rec.version);
      log.debug('model version cached', { key, version: rec.version, partition, offset: m.offset });
      opts.onRemote?.(key, rec.version);
    } catch (e) {
      if (!(e instanceof ModelStoreError)) throw e;
      rejected++;
      log.warn('model record rejected', { ...e.coords, code: e.code, error: e.message });
    }
  }

  async function send(key: string, value: Buffer, version: string): Promise<void> {
    if (value.length > MODEL_RECORD_MAX_BYTES - RECORD_OVERHEAD_BYTES) {
      throw new ModelStoreError('MODEL_TOO_LARGE', `model ${key} version ${version} frames to ${value.length} bytes, more than the ${MODEL_RECORD_MAX_BYTES - RECORD_OVERHEAD_BYTES} a record of ${topic} may hold; train a smaller model (width, depth)`, { coords: { topic, key, bytes: value.length } });
    }
    try {
      if (!producer) {
        // No auto-creation: a topic made by a metadata request would not be compacted.
        const p = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
        await p.connect();
        producer = p;
      }
      await producer.send({ topic, acks: -1, messages: [{ key, value, headers: recordHeaders(version, value, writer) }] });
    } catch (e) {
      const err = e as { message?: string; retriable?: boolean; type?: string };
      const code = err.type === 'MESSAGE_TOO_LARGE' ? 'MODEL_TOO_LARGE' : 'MODEL_STORE_UNAVAILABLE';
      throw new ModelStoreError(code, `writing model ${key} version ${version} to ${topic} failed: ${err.message ?? String(e)}`, { retriable: err.retriable === true, coords: { topic, key }, cause: e });
    }
    latest.set(key, version);
  }

  await ensureCompactedTopic(kafka, topic, MODEL_TOPIC_CONFIG, log);
  const follower = createTopicFollower({ kafka, topic, apply, log, groupPrefix: 'diffwatch-models', maxBytesPerPartition: MODEL_RECORD_MAX_BYTES + 64 * 1024, catchUpTimeoutMs: opts.catchUpTimeoutMs });
  await follower.start();

  return {
    root: local.root,
    dirOf: (key) => local.dirOf(key),
    current: (key) => local.current(key),
    staging: (key) => local.staging(key),
    async commit(key, stagingDir, version) {
      // The topic first: a version is live here only once every instance can find it.
      await send(key, await packVersion(stagingDir), version);
      return local.commit(key, stagingDir, version);
    },
    async live(key) {
      if (!synced) {
        const p = follower.caughtUp();
        synced = p;
        p.catch(() => synced === p && (synced = undefined)); // the next call tries again
      }
      await synced;
      const cur = local.current(key);
      if (cur && !latest.has(key)) {
        // A model made before the topic was configured (or by a local-only run): shared from now on.
        await send(key, await packVersion(cur.dir), cur.version);
        log.info('cached model published', { topic, key, version: cur.version });
      }
      return cur;
    },
    refresh() {
      synced = undefined;
    },
    rejected: () => rejected,
    async close() {
      await follower.stop();
      await producer?.disconnect();
      producer = undefined;
    },
  };
}
