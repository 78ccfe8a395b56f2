/**
 * Active probes of the two sinks' servers, for readiness: a Kafka DescribeCluster and an
 * InfluxDB GET /ping, each bounded by `timeoutMs`. The Kafka admin client is kept between probes
 * (and lends itself to the lag refresh); after any failure it is dropped and the next call
 * connects afresh, so a broker that comes back is seen on the next probe.
 *
 * @example
 * const broker = createBrokerProbe({ brokers: ['127.0.0.1:9092'], clientId: 'diffwatch', timeoutMs: 1_500 });
 * await broker.probe();            // { ok: true } or { ok: false, reason }
 * await pingInflux('http://127.0.0.1:8086', 1_500);
 */
import type { Admin } from 'kafkajs';
import { createKafka, type KafkaClientConfig } from '../ingest/kafkaClient.ts';
import type { CheckResult } from './readiness.ts';

export interface BrokerProbe {
  probe(): Promise<CheckResult>;
  /** Run `fn` with the connected admin client, bounded by the timeout; a failure drops the client. */
  withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export function createBrokerProbe(opts: KafkaClientConfig & { timeoutMs: number }): BrokerProbe {
  // A client of its own: no retries (the next probe is the retry) and no logs (an outage is the
  // readiness report's to tell, not a log line every two seconds).
  const kafka = createKafka(opts, { clientIdSuffix: 'ops', connectionTimeout: opts.timeoutMs, requestTimeout: opts.timeoutMs, retry: { retries: 0 } });
  let admin: Admin | null = null;
  let closed = false;

  async function drop(): Promise<void> {
    const a = admin;
    admin = null;
    await a?.disconnect().catch(() => undefined);
  }

  async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    if (closed) throw new Error('the broker probe is closed');
    try {
      if (!admin) {
        const a = kafka.admin({ retry: { retries: 0 } });
        admin = a;
        await withTimeout(a.connect(), opts.timeoutMs, 'the Kafka broker');
      }
      return await withTimeout(fn(admin), 2 * opts.timeoutMs, 'the Kafka broker');
    } catch (e) {
      await drop();
      throw e;
    }
  }

  return {
    withAdmin,
    async probe() {
      try {
        const cluster = await withAdmin((a) => a.describeCluster());
        return cluster.brokers.length > 0 ? { ok: true } : { ok: false, reason: 'the cluster lists no broker' };
      } catch (e) {
        return { ok: false, reason: `Kafka unreachable: ${(e as Error).message}` };
      }
    },
    async close() {
      closed = true;
      await drop();
    },
  };
}

/** GET <url>/ping → 204 means InfluxDB is up. Credentials in the URL are not needed for /ping and are dropped. */
export async function pingInflux(url: string, timeoutMs: number): Promise<CheckResult> {
  const target = new URL('ping', url.endsWith('/') ? url : url + '/');
  target.username = '';
  target.password = '';
  try {
    const res = await fetch(target, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 204 ? { ok: true } : { ok: false, reason: `InfluxDB /ping answered ${res.status}` };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    return { ok: false, reason: `InfluxDB unreachable: ${cause ?? (e as Error).message}` };
  }
}
