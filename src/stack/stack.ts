/**
 * The local stack as a whole: Kafka and InfluxDB (and, on request, a schema registry) up, down,
 * status. Used by `diffwatch stack` and by the integration-test global setup.
 *
 *     const { status, started } = await stackUp(loadConfig().stack);
 */
import { existsSync } from 'node:fs';
import type { StackConfig } from '../config/schema.ts';
import { StackError } from '../errors.ts';
import { rootLogger, type Logger } from '../log.ts';
import { influxStatus, startInflux, stopInflux } from './influxServer.ts';
import { kafkaStatus, startKafka, stopKafka } from './kafkaBroker.ts';
import { KAFKA_TLS_PORT_OFFSET, stackLayout } from './layout.ts';
import { registryStatus, startRegistry, stopRegistry } from './registryServer.ts';
import { ensureSecurity, readSecurity, type StackSecurity } from './security.ts';
import type { StackStatus } from './serviceStatus.ts';
import { withStackLock } from './stackLock.ts';
import { waitForPortFree } from './waitFor.ts';

export type { ServiceStatus, StackStatus } from './serviceStatus.ts';
export { clientEnv, type StackSecurity } from './security.ts';

const defaultLog = rootLogger.namespace('stack');

export type StackService = 'kafka' | 'influxdb' | 'registry';

export async function stackStatus(stack: StackConfig): Promise<StackStatus> {
  const layout = stackLayout(stack);
  const [kafka, influxdb, registry] = await Promise.all([kafkaStatus(layout, stack), influxStatus(layout, stack), registryStatus(layout, stack)]);
  // The registry is optional: it counts only while this stack runs it.
  return { healthy: kafka.healthy && influxdb.healthy && (registry.pid === null || registry.healthy), kafka, influxdb, registry };
}

export interface StackUpResult {
  status: StackStatus;
  /** Services this call started; the caller that started a service is the one that may stop it. */
  started: StackService[];
  /** A secure stack's listeners, CA and password files (paths only). */
  security?: StackSecurity;
}

export interface StackUpOptions {
  /** Also start the schema registry (Apicurio, Confluent-compatible API on stack.registryPort). */
  withRegistry?: boolean;
  /**
   * Kafka with SCRAM-SHA-512 over SASL_PLAINTEXT (stack.kafkaPort) and SASL_SSL (stack.kafkaPort + 2),
   * InfluxDB with auth (security.ts). Give it its own stack.dir and ports: a folder is secure or plain for good.
   */
  secure?: boolean;
}

/** Start whatever is not running and wait until all answer. Idempotent. */
export async function stackUp(stack: StackConfig, log: Logger = defaultLog, opts: StackUpOptions = {}): Promise<StackUpResult> {
  const layout = stackLayout(stack);
  // The lock may be held through a cold Maven resolve plus a broker start.
  return withStackLock(layout.lockFile, stack.readyTimeoutMs + 10 * 60_000, async () => {
    const started: StackUpResult['started'] = [];
    const security = await secureIfAsked(layout, stack, log, opts.secure === true);
    // One after the other: on 2 cores the JVM start and influxd start only slow each other down.
    if ((await startInflux(layout, stack, log)).started) started.push('influxdb');
    if ((await startKafka(layout, stack, log)).started) started.push('kafka');
    if (opts.withRegistry && (await startRegistry(layout, stack, log)).started) started.push('registry');
    const status = await stackStatus(stack);
    if (!status.healthy || (opts.withRegistry && !status.registry.healthy)) throw new StackError('stack', `started, but not healthy: ${JSON.stringify(status)}`);
    return { status, started, ...(security ? { security } : {}) };
  });
}

/** The folder's security settings, generated on a first `--secure` up; a folder cannot change between plain and secure. */
async function secureIfAsked(layout: ReturnType<typeof stackLayout>, stack: StackConfig, log: Logger, secure: boolean): Promise<StackSecurity | undefined> {
  const existing = readSecurity(layout);
  if (!secure) {
    if (existing) log.info('this stack folder is a secure stack; starting it secure', { dir: layout.root });
    return existing;
  }
  const tlsPort = stack.kafkaPort + KAFKA_TLS_PORT_OFFSET;
  if ([stack.controllerPort, stack.influxPort, layout.influx.rpcPort].includes(tlsPort)) {
    throw new StackError('stack', `the secure stack's TLS listener takes stack.kafkaPort + ${KAFKA_TLS_PORT_OFFSET} (${tlsPort}), which another of its ports uses; choose other ports`);
  }
  if (!existing && existsSync(layout.kafka.metaProperties)) {
    throw new StackError('stack', `${layout.root} holds a plain stack; a secure stack needs its own stack.dir and ports (e.g. DIFFWATCH_STACK_DIR=.stack-secure), or \`diffwatch stack up --secure\`, which picks them`);
  }
  return ensureSecurity(layout, stack, log);
}

export interface StackDownOptions {
  /** Only these services; default all. */
  services?: StackService[];
}

/** Stop the services this stack started (pid files) and wait until their ports are free. */
export async function stackDown(stack: StackConfig, opts: StackDownOptions = {}, log: Logger = defaultLog): Promise<{ stopped: StackService[] }> {
  const layout = stackLayout(stack);
  const which = new Set(opts.services ?? ['registry', 'kafka', 'influxdb']);
  return withStackLock(layout.lockFile, stack.readyTimeoutMs, async () => {
    const stopped: StackService[] = [];
    try {
      if (which.has('registry') && (await stopRegistry(layout, stack, log)).stopped) stopped.push('registry');
      if (which.has('kafka') && (await stopKafka(layout, stack, log)).stopped) stopped.push('kafka');
      if (which.has('influxdb') && (await stopInflux(layout, log)).stopped) {
        stopped.push('influxdb');
        await waitForPortFree(stack.influxPort, 15_000);
        await waitForPortFree(layout.influx.rpcPort, 15_000);
      }
    } catch (e) {
      if (e instanceof StackError) throw e;
      throw new StackError('stack', `stopping failed: ${(e as Error).message}. Check \`diffwatch stack status\` and the logs under ${layout.root}/logs`, e);
    }
    return { stopped };
  });
}
