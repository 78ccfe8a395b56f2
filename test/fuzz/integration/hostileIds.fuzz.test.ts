/**
 * Against the real Kafka and InfluxDB: a few thousand seeded readings over many entities with
 * generated ids (hostile characters weighted in), plus the ids of known attacks, and one entity
 * whose points InfluxDB rejects (field-type conflict). After `diffwatch run --until-idle`:
 * exactly the measurements `scores` and `alerts`, one series per accepted entity with exactly
 * its windows, alerts and Kafka keys only of accepted entities, every rejected reading in the
 * DLQ with its code, and the rejected windows dead-lettered, not counted as written.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inspectEntity } from '../../../src/cli/inspectCommand.ts';
import { DLQ_HEADERS } from '../../../src/ingest/deadLetter.ts';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, uniqueName } from '../../integration/helpers.ts';
import { influxClient, runDiffwatch, writeConfig } from '../../integration/service/runHelpers.ts';
import { expectedNameProblem, nameArb } from '../support/arbitraries.ts';
import { FUZZ_SEED } from '../support/fuzzSeed.ts';
import { readAll, stoppedMetrics } from './support.ts';
import { INTERNAL_MEASUREMENT } from '../../../src/ops/internalMeasurement.ts';

const L = 8;
const N = 64; // readings per entity: N - L + 1 windows each
const T0 = Date.UTC(2024, 0, 1);
const KNOWN = ['a\nb', 'a', 'a\u200b', 'a\u2028b', 'x\\', "it's", "a\\' OR 1=1", 'a\\b', 'e\u0301', 'é', 'scores', 'a,entity=b', ' ', 'x'.repeat(256), 'x'.repeat(257)];
// Its readings fall in a shard of their own (a month later), where `anomaly` (scores) and
// `event_id` (alerts) already exist with other types: InfluxDB answers 400 for all its points.
const CONFLICT = 'conflict-entity';
const T_CONFLICT = T0 + 30 * 86_400_000;

function entities(): string[] {
  const generated = fc.sample(nameArb, { seed: FUZZ_SEED, numRuns: 60 });
  return [...new Set([...KNOWN, ...generated])];
}

function readingsOf(id: string): object[] {
  const t0 = id === CONFLICT ? T_CONFLICT : T0;
  // A spike late in the series, so that alerts are written too.
  return Array.from({ length: N }, (_, i) => ({ entityId: id, timestamp: t0 + i * 1_000, values: { v: i === 50 ? 500 : Math.sin(i) } }));
}

describe('fuzz: hostile entity ids through the whole service', () => {
  it(`stores exactly the accepted entities and dead-letters the rest (seed ${FUZZ_SEED})`, async () => {
    const ids = [...entities(), CONFLICT];
    const accepted = ids.filter((id) => expectedNameProblem(id) === undefined);
    const rejected = ids.filter((id) => expectedNameProblem(id) !== undefined);
    const stored = accepted.filter((id) => id !== CONFLICT);
    const brokers = kafkaBrokers();
    const topic = uniqueName('fuzz-telemetry');
    const database = uniqueName('fuzz').replace(/-/g, '_');
    const anomalies = uniqueName('fuzz-anomalies');
    const stateTopic = uniqueName('fuzz-state');
    await createTopics(brokers, [topic], 2);
    await createTopics(brokers, [`${topic}.dlq`, anomalies], 1);

    const influx = influxClient(database);
    await influx.createDatabase(database);
    await influx.writePoints([
      { measurement: 'scores', tags: { entity: 'preexisting' }, fields: { anomaly: 'text' }, timestamp: new Date(T_CONFLICT) },
      { measurement: 'alerts', tags: { entity: 'preexisting' }, fields: { event_id: 1.5 }, timestamp: new Date(T_CONFLICT) },
    ], { precision: 'ms' });

    const kafka = kafkaClient();
    const producer = kafka.producer();
    await producer.connect();
    const messages = ids.flatMap((id) => readingsOf(id).map((r) => ({ key: id, value: JSON.stringify(r) })));
    for (let i = 0; i < messages.length; i += 500) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
    await producer.disconnect();

    const config = writeConfig({
      kafka: { topics: [topic], groupId: uniqueName('fuzz-group'), commitIntervalMs: 200 },
      ingest: { format: 'json' },
      stream: { windowLength: L, hop: 1, entityIdleMs: 1_500 },
      scorer: { kind: 'baseline', baseline: { minHistory: 16 } },
      detect: { stateTopic, threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 0 } },
      // The conflicting points above are in the database's first policy; a field type is per
      // shard, so the service must keep writing there for the conflict to happen.
      sinks: { anomaliesTopic: anomalies, influx: { database, flushIntervalMs: 100 }, retention: { enabled: false } },
    });
    const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'info' };
    const run = await runDiffwatch(['run', '--config', config, '--until-idle', '4'], env);
    const context = `seed ${FUZZ_SEED} (replay with DIFFWATCH_FUZZ_SEED=${FUZZ_SEED})`;
    expect(run.code, `${context}\n${run.stderr.slice(-3000)}`).toBe(0);

    // InfluxDB: only our measurements (besides the service's own health points); one series per stored entity, with exactly its windows.
    const measurements = (await influx.getMeasurements()).filter((m) => m !== INTERNAL_MEASUREMENT).sort();
    expect(measurements, context).toEqual(['alerts', 'scores']);
    const tagValues = await influx.query<{ value: string }>('SHOW TAG VALUES FROM "scores" WITH KEY = "entity"');
    // InfluxDB 1.6 indexes the series of a point before it drops the point for a field-type
    // conflict, so the conflict entity is a tag value with no data.
    expect(tagValues.map((r) => r.value).sort(), context).toEqual([...stored, CONFLICT, 'preexisting'].sort());
    expect((await inspectEntity(influxUrl(), database, CONFLICT)).windows).toBe(0);
    for (const id of stored) {
      const summary = await inspectEntity(influxUrl(), database, id); // InfluxQL quoting of every id
      expect(summary.windows, `${JSON.stringify(id)} ${context}`).toBe(N - L + 1);
    }
    const alertEntities = await influx.query<{ value: string }>('SHOW TAG VALUES FROM "alerts" WITH KEY = "entity"');
    expect(alertEntities.length, context).toBeGreaterThan(0);
    for (const r of alertEntities) expect([...stored, CONFLICT, 'preexisting'], context).toContain(r.value);
    expect((await inspectEntity(influxUrl(), database, CONFLICT)).alerts, context).toEqual([]);

    // Kafka: anomaly and state keys only of accepted entities.
    for (const t of [anomalies, stateTopic]) {
      for (const m of await readAll(kafka, t)) expect(accepted, `${t} ${context}`).toContain(m.key?.toString('utf8'));
    }

    // DLQ: every reading of a rejected id (RECORD_INVALID on entityId), every window of the conflict entity (SINK_REJECTED).
    const dead = await readAll(kafka, `${topic}.dlq`);
    const codeOf = (m: (typeof dead)[number]) => `${m.headers?.[DLQ_HEADERS.code]?.toString()}/${m.headers?.[DLQ_HEADERS.field]?.toString() ?? ''}`;
    const count = (code: string) => dead.filter((m) => codeOf(m) === code).length;
    expect(count('RECORD_INVALID/entityId'), context).toBe(rejected.length * N);
    expect(count('SINK_REJECTED/'), context).toBe(N - L + 1);
    expect(dead.length, context).toBe(rejected.length * N + N - L + 1);
    for (const m of dead.filter((d) => codeOf(d) === 'SINK_REJECTED/')) expect(m.key?.toString()).toBe(CONFLICT);

    // The service counted only what InfluxDB stored.
    const metrics = stoppedMetrics(run.stderr);
    expect(metrics.diffwatch_windows_scored_total, context).toBe(stored.length * (N - L + 1));
    expect(metrics['diffwatch_windows_rejected_total{code="SINK_REJECTED"}'], context).toBe(N - L + 1);
  });
});
