/**
 * A private secure stack for the security tests (`stackUp(..., { secure: true })`): its own
 * temporary folder and free ports, never the shared stack. The broker jars are the shared
 * stack's (a symlink), so no Maven download happens.
 *
 *   const s = await startSecureStack();
 *   s.env('tls');   // KAFKA_BROKERS, KAFKA_SSL_CA_FILE, KAFKA_SASL_*, INFLUX_* (files, not passwords)
 *   await s.stop();
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InfluxDB } from 'influx';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import type { StackConfig } from '../../../src/config/schema.ts';
import { rootLogger } from '../../../src/log.ts';
import { INFLUX_RPC_PORT_OFFSET, KAFKA_TLS_PORT_OFFSET, stackLayout } from '../../../src/stack/layout.ts';
import { clientEnv, stackDown, stackUp, type StackSecurity } from '../../../src/stack/stack.ts';
import { isListening } from '../../../src/stack/waitFor.ts';

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

/** A free port whose port + `offset` is free too (and not in `taken`). */
async function freePortPair(offset: number, taken: number[]): Promise<number> {
  for (;;) {
    const p = await freePort();
    const q = p + offset;
    if (q <= 65_535 && !taken.includes(p) && !taken.includes(q) && !(await isListening(q))) return p;
  }
}

export interface SecureStack {
  readonly stack: StackConfig;
  readonly security: StackSecurity;
  readonly influxUrl: string;
  /** What a service needs to reach the stack: over SASL_PLAINTEXT or over TLS (SASL_SSL). */
  env(via: 'sasl' | 'tls'): Record<string, string>;
  /** Every generated password (for checking that none reaches a log). */
  passwords(): string[];
  /** An InfluxDB client logged in as the stack's admin. */
  influxAdmin(database: string): InfluxDB;
  stop(): Promise<void>;
}

export async function startSecureStack(): Promise<SecureStack> {
  const shared = loadConfig({ env: {} }).stack;
  const dir = mkdtempSync(join(tmpdir(), 'diffwatch-secure-stack-'));
  const kafkaPort = await freePortPair(KAFKA_TLS_PORT_OFFSET, []);
  const controllerPort = await freePortPair(0, [kafkaPort, kafkaPort + KAFKA_TLS_PORT_OFFSET]);
  const influxPort = await freePortPair(INFLUX_RPC_PORT_OFFSET, [kafkaPort, kafkaPort + KAFKA_TLS_PORT_OFFSET, controllerPort]);
  const stack: StackConfig = { ...shared, dir, kafkaPort, controllerPort, influxPort, registryPort: controllerPort + 1 };
  const layout = stackLayout(stack);
  mkdirSync(dirname(layout.kafka.libs), { recursive: true });
  symlinkSync(stackLayout(shared).kafka.libs, layout.kafka.libs);
  const log = rootLogger.namespace('secure-stack');
  const { security } = await stackUp(stack, log, { secure: true });
  if (!security) throw new Error('stackUp --secure returned no security settings');
  const influxUrl = `http://127.0.0.1:${influxPort}`;
  const read = (f: string) => readFileSync(f, 'utf8').trim();
  return {
    stack,
    security,
    influxUrl,
    env: (via) => ({ ...clientEnv(security, via), INFLUX_URL: influxUrl }),
    passwords: () => [security.keystorePasswordFile, security.kafka.passwordFile, security.kafka.broker.passwordFile, security.influx.admin.passwordFile, security.influx.writer.passwordFile].map(read),
    influxAdmin: (database) =>
      new InfluxDB({ host: '127.0.0.1', port: influxPort, database, username: security.influx.admin.user, password: read(security.influx.admin.passwordFile) }),
    async stop() {
      await stackDown(stack, {}, log).catch(() => undefined);
      // DIFFWATCH_STACK_KEEP=1 keeps the folder (logs, certificates) for a look after a failure.
      if (process.env.DIFFWATCH_STACK_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    },
  };
}
