/**
 * The `anomalies` topic as a subscriber sees it, read by reference clients in three languages
 * after the broker's retention has run: the official Kafka Java consumer with Apache Avro for
 * Java, confluent-kafka (librdkafka) with fastavro, and kafkajs with avsc (the README's snippets:
 * test/interop/{java,python,node}).
 *
 * diffwatch runs twice over readings stamped in 2021: a run, then a replay of the same input with
 * a fresh group and detector state, which publishes every alert again with the same ids (a
 * redelivery, as after a crash). Then a complete retention pass of the broker (24 h retention) is
 * awaited. Each subscriber must read every message of both runs, decode it with
 * schemas/anomaly-event.avsc, find the key equal to `entityId`, and drop the replayed copies by
 * `eventId`, keeping exactly the alerts that InfluxDB holds. Were an alert's Kafka timestamp its
 * event time (2021), retention would have deleted every one of them before the subscribers read.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { ANOMALY_SCHEMA_PATH } from '../../../src/ingest/codec/loadSchema.ts';
import { encodeReading } from '../../../src/ingest/codec/index.ts';
import type { AnomalyEvent } from '../../../src/types.ts';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, uniqueName } from '../helpers.ts';
import { influxClient, runDiffwatch, writeConfig } from '../service/runHelpers.ts';
import { jsonLines, prepareJavaClients, preparePythonClients, runNodeClient, type ProcessResult } from './referenceClients.ts';
import { waitForRetentionPass } from './retentionPass.ts';

/** One line of a subscriber's output: the message's key and timestamp, and the decoded event. */
interface SubscriberLine {
  key: string;
  timestamp: number;
  duplicate: boolean;
  event: AnomalyEvent;
}

/** Event time of the first reading: long past, beyond any retention. */
const T0 = Date.UTC(2021, 0, 1);
const STEP_MS = 60_000;
const READINGS = 400;
const WINDOW = 32;
/** Entity → indices of the readings that spike (+50 over a sine of amplitude 1). */
const SPIKES: Record<string, number[]> = { 'press-1': [120, 300], 'press-2': [200] };

function readings(entity: string): { key: string; value: Buffer }[] {
  return Array.from({ length: READINGS }, (_, i) => {
    const spike = SPIKES[entity].some((s) => i >= s && i < s + 3) ? 50 : 0;
    const value = encodeReading({ entityId: entity, timestamp: T0 + i * STEP_MS, values: { temp: 20 + Math.sin(i / 7) + spike } }, 'avro');
    return { key: entity, value };
  });
}

describe('anomalies topic read by reference subscribers after a replay and a retention pass', () => {
  const brokers = kafkaBrokers();
  const anomalies = uniqueName('interop-anomalies');
  const started = Date.now();
  let expectedIds: Set<string>;
  const setupTimes: Record<string, number> = {};
  let java: Awaited<ReturnType<typeof prepareJavaClients>>;
  let python: Awaited<ReturnType<typeof preparePythonClients>>;

  const subscribe = (run: (args: string[]) => Promise<ProcessResult>) => run([brokers.join(','), anomalies, uniqueName('interop-subscriber'), ANOMALY_SCHEMA_PATH]);

  beforeAll(async () => {
    const timed = <T>(name: string, p: Promise<T>) => p.then((v) => ((setupTimes[name] = Date.now() - started), v));
    // The clients install while diffwatch runs.
    const clients = Promise.all([timed('java', prepareJavaClients(loadConfig().stack.kafkaVersion)), timed('python', preparePythonClients())]);
    clients.catch(() => undefined); // awaited below; keeps an early failure from going unhandled

    const input = uniqueName('interop-telemetry');
    await createTopics(brokers, [input, anomalies], 2);
    const kafka = kafkaClient();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: input, acks: -1, messages: Object.keys(SPIKES).flatMap(readings) });
    await producer.disconnect();

    const database = uniqueName('interop').replace(/-/g, '_');
    const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'warn' };
    const config = (run: string) => ({
      kafka: { topics: [input], groupId: uniqueName(`interop-${run}`), commitIntervalMs: 200 },
      stream: { windowLength: WINDOW, hop: 1 },
      scorer: { kind: 'baseline' },
      detect: { stateTopic: uniqueName(`interop-state-${run}`), threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 0 } },
      sinks: { anomaliesTopic: anomalies, influx: { database, flushIntervalMs: 100 } },
    });
    // The run, then the replay: same input, fresh group and state, same anomalies topic.
    for (const run of ['run', 'replay']) {
      const r = await timed(run, runDiffwatch(['run', '--config', writeConfig(config(run)), '--until-idle', '2'], env));
      expect(r.code, r.stderr.slice(-4000)).toBe(0);
    }

    const rows = await influxClient(database).query<{ event_id: string }>('SELECT "event_id" FROM "alerts"');
    expectedIds = new Set(rows.map((r) => r.event_id));
    expect(expectedIds.size).toBeGreaterThanOrEqual(2 * Object.values(SPIKES).flat().length); // an open and a resolved per spike

    setupTimes.retentionPassMs = await waitForRetentionPass(kafka);
    [java, python] = await clients;
    process.stderr.write(`interop set-up (ms since start): ${JSON.stringify(setupTimes)}\n`);
  });

  /** What every subscriber must have read. */
  function checkSubscriber(r: ProcessResult): void {
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    const lines = jsonLines<SubscriberLine>(r.stdout);
    // Every message of both runs survived retention: each alert once, and once again replayed.
    expect(lines.length, 'messages read').toBe(2 * expectedIds.size);
    for (const l of lines) expect(l.key).toBe(l.event.entityId);
    const first = lines.filter((l) => !l.duplicate);
    expect(new Set(first.map((l) => l.event.eventId))).toEqual(expectedIds);
    expect(first).toHaveLength(expectedIds.size);

    // A replayed copy is the same event but for when it was detected.
    const byId = new Map(first.map((l) => [l.event.eventId, l.event]));
    for (const { event } of lines.filter((l) => l.duplicate)) {
      const { detectedAt, ...rest } = event;
      const { detectedAt: firstDetectedAt, ...firstRest } = byId.get(event.eventId)!;
      expect(rest).toEqual(firstRest);
      expect(detectedAt).toBeGreaterThanOrEqual(firstDetectedAt);
    }

    // The Kafka timestamp and detectedAt are wall-clock times of this test; the event times are of 2021.
    for (const { timestamp, event } of lines) {
      expect(timestamp).toBeGreaterThanOrEqual(started);
      expect(event.detectedAt).toBeGreaterThanOrEqual(started);
      expect(event.detectedAt).toBeLessThanOrEqual(timestamp);
      expect(event.endTime).toBeLessThan(T0 + READINGS * STEP_MS);
    }
    const states = new Set(lines.map((l) => l.event.state));
    expect(states.has('open') && states.has('resolved'), [...states].join()).toBe(true);
    for (const s of states) expect(['open', 'ongoing', 'resolved']).toContain(s);
    expect(new Set(lines.map((l) => l.key))).toEqual(new Set(Object.keys(SPIKES)));
  }

  it('Java: kafka-clients and Apache Avro for Java', async () => {
    checkSubscriber(await subscribe((args) => java.run('AnomalySubscriber', args)));
  });

  it('Python: confluent-kafka (librdkafka) and fastavro', async () => {
    checkSubscriber(await subscribe((args) => python.run('anomaly_subscriber.py', args)));
  });

  it('Node: kafkajs and avsc', async () => {
    checkSubscriber(await subscribe((args) => runNodeClient('anomalySubscriber.mjs', args)));
  });
});

