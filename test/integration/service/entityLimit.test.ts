/**
 * stream.maxEntities = 5 and 8 entities: the first 5 get windows in InfluxDB; every reading of the
 * other 3 is in the dead-letter topic as ENTITY_LIMIT, and /metrics shows the live entities and
 * the refusals.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../../src/ingest/deadLetter.ts';
import { METRICS } from '../../../src/metrics.ts';
import type { Service } from '../../../src/service/pipeline.ts';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, uniqueName, waitUntil } from '../helpers.ts';
import { opsTestConfig, produceReadings, scrape, startTestService } from '../ops/opsHelpers.ts';
import { countScores, influxClient } from './runHelpers.ts';

const CAP = 5;
const ENTITIES = Array.from({ length: 8 }, (_, i) => `pump-${i}`);
const N = 20; // readings per entity
const L = 8; // window length, hop 1 (opsTestConfig): N - L + 1 windows per admitted entity

let service: Service | undefined;
afterAll(async () => {
  await service?.stop('test over');
});

describe('stream.maxEntities', () => {
  it('admits the first entities up to the cap and dead-letters every reading of the others as ENTITY_LIMIT', async () => {
    const topic = uniqueName('cap-telemetry');
    const dlq = `${topic}.dlq`;
    const database = uniqueName('cap').replaceAll('-', '_');
    await createTopics(kafkaBrokers(), [topic, dlq], 1);
    const kafka = kafkaClient();
    // One partition, entity after entity: the first CAP entities are the first read.
    for (const e of ENTITIES) await produceReadings(kafka, topic, e, N);

    const cfg = opsTestConfig({
      brokers: kafkaBrokers(),
      influxUrl: influxUrl(),
      topic,
      groupId: uniqueName('cap-group'),
      database,
      // No entity goes idle during the test, so no slot frees up.
      overrides: { stream: { windowLength: L, hop: 1, entityIdleMs: 600_000, maxEntities: CAP } },
    });
    service = await startTestService(cfg);
    const s = service;

    const admitted = ENTITIES.slice(0, CAP);
    const refused = ENTITIES.slice(CAP);
    const influx = influxClient(database);
    await waitUntil(async () => (await scrape(s)).sum(METRICS.windowsScored) >= CAP * (N - L + 1), { timeoutMs: 60_000, what: `${CAP * (N - L + 1)} windows scored` });
    for (const e of admitted) expect(await countScores(influx, e), e).toBe(N - L + 1);
    for (const e of refused) expect(await countScores(influx, e), e).toBe(0);

    const dead: { key: string; code: string }[] = [];
    const reader = kafka.consumer({ groupId: uniqueName('cap-dlq-reader') });
    await reader.connect();
    try {
      await reader.subscribe({ topic: dlq, fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message }) => {
          dead.push({ key: message.key?.toString() ?? '', code: message.headers?.[DLQ_HEADERS.code]?.toString() ?? '' });
        },
      });
      await waitUntil(() => dead.length >= refused.length * N, { timeoutMs: 30_000, what: 'dead letters' });
    } finally {
      await reader.disconnect();
    }
    expect(dead.length).toBe(refused.length * N);
    expect(new Set(dead.map((d) => d.code))).toEqual(new Set(['ENTITY_LIMIT']));
    for (const e of refused) expect(dead.filter((d) => d.key === e).length, e).toBe(N);

    const m = await scrape(s);
    expect(m.value(METRICS.entitiesLive)).toBe(CAP);
    expect(m.value(METRICS.entitiesRefused)).toBe(refused.length * N);
    expect(m.value(METRICS.deadLettered, { code: 'ENTITY_LIMIT' })).toBe(refused.length * N);
  });
});
