/**
 * /readyz follows the sinks' servers: 503 within 10 s of the Kafka broker or InfluxDB going away,
 * 200 again once they are back. The servers are private to this test (its own folder and
 * ports): the shared stack is never stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../../src/service/pipeline.ts';
import { createTopics, uniqueName, waitUntil } from '../helpers.ts';
import { opsTestConfig, readyStatus, startTestService } from './opsHelpers.ts';
import { privateStack, type PrivateStack } from './privateStack.ts';

/** The most /readyz may take to notice an outage. */
const NOTICE_MS = 10_000;

let stack: PrivateStack;
let service: Service | undefined;

beforeAll(async () => {
  stack = await privateStack();
  // One after the other: on 2 cores a JVM start and an influxd start only slow each other down.
  await stack.startInflux();
  await stack.startKafka();
});

afterAll(async () => {
  await service?.stop('test over').catch(() => undefined);
  await stack?.destroy();
});

/** ms from now until /readyz answers `status` (and, for 503, names `check`); fails after `timeoutMs`. */
async function msUntil(status: number, check: string | undefined, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  await waitUntil(
    async () => {
      const r = await readyStatus(service!);
      return r.status === status && (check === undefined || r.notReady.includes(check));
    },
    { timeoutMs, intervalMs: 100, what: `/readyz ${status}${check ? ` naming ${check}` : ''}` },
  );
  return Date.now() - t0;
}

describe('/readyz against a private broker and InfluxDB', () => {
  it('turns 503 within 10 s of the broker or InfluxDB going away, and 200 when they are back', async () => {
    const topic = uniqueName('ops-ready');
    await createTopics(stack.brokers, [topic], 1);
    service = await startTestService(opsTestConfig({ brokers: stack.brokers, influxUrl: stack.influxUrl, topic, groupId: uniqueName('g'), database: 'ops_ready' }));
    const firstReady = await msUntil(200, undefined, 60_000);

    let t0 = Date.now();
    await stack.stopKafka(); // returns once the broker process is gone
    const kafkaStopMs = Date.now() - t0;
    const kafkaGone = await msUntil(503, 'kafka_broker', NOTICE_MS);
    await stack.startKafka();
    const kafkaBack = await msUntil(200, undefined, 120_000);

    t0 = Date.now();
    await stack.stopInflux();
    const influxStopMs = Date.now() - t0;
    const influxGone = await msUntil(503, 'influxdb', NOTICE_MS);
    await stack.startInflux();
    const influxBack = await msUntil(200, undefined, 60_000);

    process.stderr.write(`readyz: first ready ${firstReady} ms; Kafka stopped in ${kafkaStopMs} ms, then 503 in ${kafkaGone} ms, back → 200 in ${kafkaBack} ms; InfluxDB stopped in ${influxStopMs} ms, then 503 in ${influxGone} ms, back → 200 in ${influxBack} ms\n`);
    expect(kafkaGone).toBeLessThan(NOTICE_MS);
    expect(influxGone).toBeLessThan(NOTICE_MS);
  });
});
