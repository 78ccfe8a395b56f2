/**
 * Helpers of the operator-endpoint tests: a service started in-process with its endpoint on an
 * ephemeral port, Avro readings produced from the test, and GETs against the endpoint.
 */
import { Partitioners, type Kafka } from 'kafkajs';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import type { DiffwatchConfig } from '../../../src/config/schema.ts';
import { encodeReading } from '../../../src/ingest/codec/index.ts';
import { rootLogger } from '../../../src/log.ts';
import { startService, type Service } from '../../../src/service/pipeline.ts';
import { parseScrape, type Scrape } from '../../unit/ops/promText.ts';

/** A service config on the given stack: baseline scorer, operator endpoint on port 0, short timers. */
export function opsTestConfig(o: { brokers: string[]; influxUrl: string; topic: string; groupId: string; database: string; internalIntervalMs?: number; overrides?: object }): Readonly<DiffwatchConfig> {
  return loadConfig({
    env: {},
    overrides: {
      kafka: { brokers: o.brokers, topics: [o.topic], groupId: o.groupId, commitIntervalMs: 200 },
      stream: { windowLength: 8, hop: 1, entityIdleMs: 1_500 },
      scorer: { kind: 'baseline' },
      detect: { stateTopic: `${o.topic}.state` },
      sinks: { anomaliesTopic: `${o.topic}.anomalies`, influx: { url: o.influxUrl, database: o.database, flushIntervalMs: 100 } },
      ops: { http: { enabled: true, host: '127.0.0.1', port: 0 }, internalIntervalMs: o.internalIntervalMs ?? 0 },
      ...o.overrides,
    },
  });
}

export function startTestService(cfg: Readonly<DiffwatchConfig>): Promise<Service> {
  return startService(cfg, { log: rootLogger.namespace('ops-test') });
}

/** Produce `n` Avro readings of one entity, one a minute up to now, in order. */
export async function produceReadings(kafka: Kafka, topic: string, entityId: string, n: number): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const t0 = Date.now() - n * 60_000;
    const messages = Array.from({ length: n }, (_, i) => ({ key: entityId, value: encodeReading({ entityId, timestamp: t0 + i * 60_000, values: { value: Math.sin(i / 3) } }, 'avro') }));
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

export async function get(service: Service, path: string): Promise<{ status: number; body: string }> {
  const address = service.httpAddress();
  if (!address) throw new Error('the service has no operator endpoint');
  const res = await fetch(address.url + path, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text() };
}

export async function scrape(service: Service): Promise<Scrape> {
  const r = await get(service, '/metrics');
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${r.body}`);
  return parseScrape(r.body);
}

/** /readyz's status; 0 when the endpoint does not answer. */
export async function readyStatus(service: Service): Promise<{ status: number; notReady: string[] }> {
  try {
    const r = await get(service, '/readyz');
    return { status: r.status, notReady: (JSON.parse(r.body) as { notReady: string[] }).notReady };
  } catch {
    return { status: 0, notReady: ['endpoint'] };
  }
}
