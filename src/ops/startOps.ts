/**
 * What an operator reads from a running service, wired in one place: the HTTP endpoint
 * (`/metrics`, `/healthz`, `/readyz`), the readiness probes, the consumer-lag refresh and the
 * pipeline-health points in InfluxDB.
 *
 *   every probeIntervalMs   Kafka DescribeCluster + InfluxDB /ping  ─▶ readiness checks
 *   every lagIntervalMs     end offsets − committed offsets          ─▶ diffwatch_consumer_lag_messages
 *   every internalIntervalMs  metrics over the interval                ─▶ diffwatch_internal point
 *
 * /readyz turns 503 within probeIntervalMs + probeTimeoutMs of a sink's server going away
 * (about 3.5 s with the defaults), and 200 again on the first probe after it is back.
 */
import type { OpsConfig } from '../config/schema.ts';
import type { PartitionRef } from '../ingest/flowControl.ts';
import type { KafkaClientConfig } from '../ingest/kafkaClient.ts';
import type { Logger } from '../log.ts';
import { METRICS, type Metrics } from '../metrics.ts';
import { createInfluxHttp } from '../sinks/influxHttp.ts';
import { createBrokerProbe, pingInflux } from './brokerProbe.ts';
import { fetchConsumerLag } from './consumerLag.ts';
import { startHttpServer, type HttpAddress, type OpsHttpServer } from './httpServer.ts';
import { startInternalReporter, type InternalReporter } from './internalReporter.ts';
import { watchLiveHeap } from './liveHeap.ts';
import { createReadiness, ProbeState, READY_CHECKS, type CheckResult, type Readiness } from './readiness.ts';
import { createRouter, jsonReply, type Router } from './router.ts';

export interface ServiceStatus {
  /** True once the service is stopping or stopped. */
  stopped(): boolean;
  /** The consumer is in its group with partitions assigned. */
  group(): CheckResult;
  producer(): CheckResult;
  scorer(): CheckResult;
  /** Partitions this instance owns (for the lag). */
  owned(): PartitionRef[];
}

export interface StartOpsOptions {
  ops: Readonly<OpsConfig>;
  kafka: KafkaClientConfig & { groupId: string };
  influx: { url: string; database: string; timeoutMs: number; username?: string | null; passwordFile?: string | null };
  metrics: Metrics;
  status: ServiceStatus;
  log: Logger;
  /** ms between readiness probes. Default 2000. */
  probeIntervalMs?: number;
  /** ms a probe may take. Default 1500. */
  probeTimeoutMs?: number;
  /** ms between consumer-lag refreshes. Default 5000. */
  lagIntervalMs?: number;
}

export interface Ops {
  /** Where the HTTP endpoint listens; undefined when ops.http.enabled is false. */
  readonly address: HttpAddress | undefined;
  readonly readiness: Readiness;
  /** Stops the probes, writes the last pipeline-health point, closes the endpoint. */
  close(): Promise<void>;
}

export function opsRouter(metrics: Metrics, readiness: Readiness, stopped: () => boolean): Router {
  return createRouter({
    '/metrics': async () => ({ status: 200, headers: { 'content-type': metrics.contentType }, body: await metrics.text() }),
    // Answering at all shows the event loop runs; a stopping service is no longer healthy.
    '/healthz': () => (stopped() ? jsonReply(503, { status: 'stopping' }) : jsonReply(200, { status: 'ok' })),
    '/readyz': () => {
      const r = readiness.report();
      if (stopped()) return jsonReply(503, { ready: false, notReady: ['service'], reason: 'the service is stopping', checks: r.checks });
      return jsonReply(r.ready ? 200 : 503, { ready: r.ready, notReady: r.notReady, checks: r.checks });
    },
  });
}

/** A loop that runs `tick` every `ms` after the previous run ended (never two at once). */
function every(ms: number, tick: () => Promise<void>): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = tick().finally(() => {
      if (!stopped) timer = setTimeout(run, ms).unref();
    });
  };
  run();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

export async function startOps(opts: StartOpsOptions): Promise<Ops> {
  const { metrics, status, log } = opts;
  const probeTimeoutMs = opts.probeTimeoutMs ?? 1_500;
  const broker = createBrokerProbe({ ...opts.kafka, timeoutMs: probeTimeoutMs });
  const brokerState = new ProbeState('Kafka');
  const influxState = new ProbeState('InfluxDB');
  const readiness = createReadiness({
    kafka_group: status.group,
    kafka_broker: brokerState.check,
    kafka_producer: status.producer,
    influxdb: influxState.check,
    scorer: status.scorer,
  });
  metrics.sample(METRICS.ready, () => {
    const r = readiness.report();
    const ready = r.ready && !status.stopped();
    return [{ labels: { check: 'all' }, value: ready ? 1 : 0 }, ...READY_CHECKS.map((c) => ({ labels: { check: c }, value: r.checks[c].ok ? 1 : 0 }))];
  });

  const logTransition = (what: string, before: CheckResult, after: CheckResult) => {
    if (before.ok && !after.ok) log.warn(`${what} not ready`, { reason: after.reason });
    else if (!before.ok && after.ok && before.reason !== undefined && !before.reason.endsWith('not probed yet')) log.info(`${what} ready again`);
  };
  const probes = every(opts.probeIntervalMs ?? 2_000, async () => {
    const [b, i] = await Promise.all([broker.probe(), pingInflux(opts.influx.url, probeTimeoutMs)]);
    logTransition('Kafka', brokerState.check(), b);
    logTransition('InfluxDB', influxState.check(), i);
    brokerState.record(b);
    influxState.record(i);
  });

  const lag = every(opts.lagIntervalMs ?? 5_000, async () => {
    if (!brokerState.check().ok) return; // the last lag stays until the broker answers again
    try {
      const rows = await broker.withAdmin((a) => fetchConsumerLag(a, opts.kafka.groupId, status.owned()));
      metrics.clear(METRICS.consumerLag);
      for (const r of rows) metrics.set(METRICS.consumerLag, r.lag, { topic: r.topic, partition: String(r.partition) });
    } catch (e) {
      log.debug('consumer lag not refreshed', { error: (e as Error).message });
    }
  });

  let server: OpsHttpServer | undefined;
  if (opts.ops.http.enabled) {
    try {
      server = await startHttpServer({ host: opts.ops.http.host, port: opts.ops.http.port, route: opsRouter(metrics, readiness, status.stopped) });
    } catch (e) {
      await Promise.all([probes.stop(), lag.stop()]);
      await broker.close();
      throw e;
    }
    log.info('operator endpoint listening', { url: server.address.url, paths: ['/metrics', '/healthz', '/readyz'] });
  }

  let reporter: InternalReporter | undefined;
  if (opts.ops.internalIntervalMs > 0) {
    // Its own client with a short timeout: a pipeline-health point never delays a shutdown for long.
    const http = createInfluxHttp({ ...opts.influx, timeoutMs: Math.min(opts.influx.timeoutMs, 5_000) });
    reporter = startInternalReporter({ metrics, intervalMs: opts.ops.internalIntervalMs, write: (lines) => http.write(lines), log });
  }

  const stopHeapWatch = watchLiveHeap(metrics);

  return {
    address: server?.address,
    readiness,
    async close() {
      stopHeapWatch();
      await Promise.all([probes.stop(), lag.stop()]);
      await broker.close();
      await reporter?.close();
      await server?.close();
    },
  };
}
