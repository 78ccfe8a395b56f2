/**
 * The local stack as a whole: Kafka and InfluxDB up, down, status. Used by `diffwatch stack` and by
 * the integration-test global setup.
 *
 *     const { status, started } = await stackUp(loadConfig().stack);
 */
import type { StackConfig } from '../config/schema.ts';
import { StackError } from '../errors.ts';
import { rootLogger, type Logger } from '../log.ts';
import { influxStatus, startInflux, stopInflux } from './influxServer.ts';
import { kafkaStatus, startKafka, stopKafka } from './kafkaBroker.ts';
import { stackLayout } from './layout.ts';
import type { StackStatus } from './serviceStatus.ts';
import { withStackLock } from './stackLock.ts';
import { waitForPortFree } from './waitFor.ts';

export type { ServiceStatus, StackStatus } from './serviceStatus.ts';

const defaultLog = rootLogger.namespace('stack');

export async function stackStatus(stack: StackConfig): Promise<StackStatus> {
  const layout = stackLayout(stack);
  const [kafka, influxdb] = await Promise.all([kafkaStatus(layout, stack), influxStatus(layout, stack)]);
  return { healthy: kafka.healthy && influxdb.healthy, kafka, influxdb };
}

export interface StackUpResult {
  status: StackStatus;
  /** Services this call started; the caller that started a service is the one that may stop it. */
  started: Array<'kafka' | 'influxdb'>;
}

/** Start whatever is not running and wait until both answer. Idempotent. */
export async function stackUp(stack: StackConfig, log: Logger = defaultLog): Promise<StackUpResult> {
  const layout = stackLayout(stack);
  // The lock may be held through a cold Maven resolve plus a broker start.
  return withStackLock(layout.lockFile, stack.readyTimeoutMs + 10 * 60_000, async () => {
    const started: StackUpResult['started'] = [];
    // One after the other: on 2 cores the JVM start and influxd start only slow each other down.
    if ((await startInflux(layout, stack, log)).started) started.push('influxdb');
    if ((await startKafka(layout, stack, log)).started) started.push('kafka');
    const status = await stackStatus(stack);
    if (!status.healthy) throw new StackError('stack', `started, but not healthy: ${JSON.stringify(status)}`);
    return { status, started };
  });
}

export interface StackDownOptions {
  /** Only these services; default both. */
  services?: Array<'kafka' | 'influxdb'>;
}

/** Stop the services this stack started (pid files) and wait until their ports are free. */
export async function stackDown(stack: StackConfig, opts: StackDownOptions = {}, log: Logger = defaultLog): Promise<{ stopped: Array<'kafka' | 'influxdb'> }> {
  const layout = stackLayout(stack);
  const which = new Set(opts.services ?? ['kafka', 'influxdb']);
  return withStackLock(layout.lockFile, stack.readyTimeoutMs, async () => {
    const stopped: Array<'kafka' | 'influxdb'> = [];
    try {
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
