/**
 * A private Kafka broker and InfluxDB for a test that must stop them: its own folder and ports,
 * never the shared stack that other tests run on. The broker jars are the shared stack's
 * (a symlink), so no Maven download happens.
 *
 *   const stack = await privateStack();
 *   await stack.startKafka(); await stack.stopKafka(); ...
 *   await stack.destroy();
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import type { StackConfig } from '../../../src/config/schema.ts';
import { rootLogger } from '../../../src/log.ts';
import { startInflux, stopInflux } from '../../../src/stack/influxServer.ts';
import { startKafka, stopKafka } from '../../../src/stack/kafkaBroker.ts';
import { INFLUX_RPC_PORT_OFFSET, stackLayout, type StackLayout } from '../../../src/stack/layout.ts';
import { isListening } from '../../../src/stack/waitFor.ts';

/** A port the OS says is free now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** An InfluxDB HTTP port whose RPC port (+2) is free too. */
async function freeInfluxPort(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p + INFLUX_RPC_PORT_OFFSET <= 65_535 && !(await isListening(p + INFLUX_RPC_PORT_OFFSET))) return p;
  }
}

export interface PrivateStack {
  readonly stack: StackConfig;
  readonly brokers: string[];
  readonly influxUrl: string;
  startKafka(): Promise<void>;
  stopKafka(): Promise<void>;
  startInflux(): Promise<void>;
  stopInflux(): Promise<void>;
  /** Stops whatever runs and deletes the folder. */
  destroy(): Promise<void>;
}

export async function privateStack(): Promise<PrivateStack> {
  const shared = loadConfig({ env: {} }).stack;
  const dir = mkdtempSync(join(tmpdir(), 'diffwatch-ops-stack-'));
  const kafkaPort = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === kafkaPort) controllerPort = await freePort();
  const influxPort = await freeInfluxPort();
  const stack: StackConfig = { ...shared, dir, kafkaPort, controllerPort, influxPort };
  const layout: StackLayout = stackLayout(stack);
  mkdirSync(dirname(layout.kafka.libs), { recursive: true });
  symlinkSync(stackLayout(shared).kafka.libs, layout.kafka.libs);
  const log = rootLogger.namespace('private-stack');
  return {
    stack,
    brokers: [`127.0.0.1:${kafkaPort}`],
    influxUrl: `http://127.0.0.1:${influxPort}`,
    startKafka: async () => void (await startKafka(layout, stack, log)),
    stopKafka: async () => void (await stopKafka(layout, stack, log)),
    startInflux: async () => void (await startInflux(layout, stack, log)),
    stopInflux: async () => void (await stopInflux(layout, log)),
    async destroy() {
      await stopKafka(layout, stack, log).catch(() => undefined);
      await stopInflux(layout, log).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
