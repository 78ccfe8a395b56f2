/**
 * The models and row topics on the real broker, between two stores that share nothing but the
 * topics: the topic is created compacted with room for 4 MiB records, a version written by one
 * (larger than the broker's default 1 MiB record) is found by the other, byte for byte, and
 * reported to it as remote, and a tombstone starts the key over in both; rows flushed by one are taken by the other, and gone after a drop.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { openKafkaModelStore } from '../../../src/modelOps/kafkaModelStore.ts';
import { createModelStore } from '../../../src/modelOps/modelStore.ts';
import { RowCollector } from '../../../src/modelOps/rowCollector.ts';
import { openRowLog } from '../../../src/modelOps/rowLog.ts';
import type { Window } from '../../../src/types.ts';
import type { Logger } from '../../../src/log.ts';
import { kafkaClient, uniqueName, waitUntil } from '../helpers.ts';

const quiet = (): Logger => {
  const log: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, namespace: () => log };
  return log;
};
const localStore = () => createModelStore(join(mkdtempSync(join(tmpdir(), 'diffwatch-kms-')), 'models'));

function win(entityId: string, end: number, L = 8): Window {
  const timestamps = Float64Array.from({ length: L }, (_, i) => end - L + 1 + i);
  const values = Float32Array.from({ length: L }, (_, i) => Math.sin(end + i));
  return { entityId, channels: ['x'], length: L, startTime: timestamps[0], endTime: end, timestamps, values, hasGap: false, sources: [], releases: [] };
}

describe('models and rows topics between two instances', () => {
  it('a version one store writes is found by the other, byte for byte, and reported as remote', { timeout: 120_000 }, async () => {
    const topic = uniqueName('kms-models');
    const remote: string[] = [];
    const a = await openKafkaModelStore({ kafka: kafkaClient(), topic, local: localStore(), log: quiet() });
    const b = await openKafkaModelStore({ kafka: kafkaClient(), topic, local: localStore(), log: quiet(), onRemote: (k, v) => remote.push(`${k}@${v}`) });
    try {
      const admin = kafkaClient().admin();
      await admin.connect();
      const cfg = await admin.describeConfigs({ resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy', 'max.message.bytes'] }], includeSynonyms: false });
      await admin.disconnect();
      expect(Object.fromEntries(cfg.resources[0].configEntries.map((e) => [e.configName, e.configValue]))).toEqual({ 'cleanup.policy': 'compact', 'max.message.bytes': '4194304' });

      const key = 'entity:pump/7';
      const version = '0123456789abcdef';
      const staging = a.staging(key);
      await mkdir(staging, { recursive: true });
      // 1.5 MB of weights: more than a record may hold on a topic with the broker's defaults.
      const weights = Buffer.from(Float32Array.from({ length: 375_000 }, (_, i) => Math.sin(i)).buffer);
      writeFileSync(join(staging, 'weights.bin'), weights);
      writeFileSync(join(staging, 'manifest.json'), JSON.stringify({ version }));
      await a.commit(key, staging, version);
      expect(a.current(key)?.version).toBe(version);

      await waitUntil(() => remote.length > 0, { what: 'the version reported to the other store', timeoutMs: 30_000 });
      expect(remote).toEqual([`${key}@${version}`]);
      b.refresh();
      const live = await b.live(key);
      expect(live?.version).toBe(version);
      expect(readFileSync(join(live!.dir, 'weights.bin')).equals(weights)).toBe(true);
      expect(b.rejected()).toBe(0);

      // A tombstone starts the key over: no live version in either cache.
      const producer = kafkaClient().producer();
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ key, value: null }] });
      await producer.disconnect();
      a.refresh();
      b.refresh();
      expect(await a.live(key)).toBeUndefined();
      expect(await b.live(key)).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('rows one instance flushes are taken by the other, and gone once dropped', { timeout: 120_000 }, async () => {
    const topic = uniqueName('kms-rows');
    const a = await openRowLog({ kafka: kafkaClient(), topic, log: quiet(), flushMs: 60_000 });
    const b = await openRowLog({ kafka: kafkaClient(), topic, log: quiet(), flushMs: 60_000 });
    try {
      // 600 rows in a ring of 500: chunks of 256, slots reused.
      const rows = new RowCollector(500);
      a.attach('entity:e', 'recent', rows);
      for (let end = 7; end < 600; end += 8) {
        rows.add(win('e', end));
        if (end % 200 === 7) await a.flush();
      }
      await a.flush();
      b.refresh();
      const saved = await b.take('entity:e', 'recent');
      const back = new RowCollector(500);
      back.restore(saved!);
      expect(back.series()).toEqual(rows.series());
      expect(back.appended).toBe(rows.appended);

      a.drop('entity:e', 'recent');
      await a.flush();
      b.refresh();
      expect(await b.take('entity:e', 'recent')).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
