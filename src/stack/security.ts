/**
 * `diffwatch stack up --secure`: what makes a stack secure, generated once into `<dir>/secrets/`
 * (mode 700; every password and key file mode 600) and read back by status, down and the tests.
 *
 *   Kafka      SASL_PLAINTEXT on stack.kafkaPort and SASL_SSL (TLS) on stack.kafkaPort + 2, both
 *              SCRAM-SHA-512; users `diffwatch` (clients) and `diffwatch-broker` (inter-broker),
 *              created when the storage is formatted; the controller listener stays PLAINTEXT on loopback.
 *   TLS        a CA (`ca.pem`, for clients) and a broker keystore (`broker.p12`) made with openssl.
 *   InfluxDB   auth-enabled; users `admin` (all privileges) and `writer` (ALL on the database).
 *
 * Passwords are random, written to files and only ever printed as paths.
 *
 * @example
 * const sec = await ensureSecurity(layout, stack, log); // idempotent
 * sec.kafka.passwordFile; // .stack-secure/secrets/kafka-diffwatch.password
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackConfig } from '../config/schema.ts';
import { readPasswordFile } from '../config/secrets.ts';
import type { Logger } from '../log.ts';
import { makeCertificates } from './certificates.ts';
import { KAFKA_TLS_PORT_OFFSET, type StackLayout } from './layout.ts';

export const SCRAM_MECHANISM = 'SCRAM-SHA-512';

export interface UserFile {
  user: string;
  passwordFile: string;
}

/** Paths and ports only: no secret is held here, so it can be printed and stored as JSON. */
export interface StackSecurity {
  /** SASL_PLAINTEXT listener port (stack.kafkaPort). */
  saslPort: number;
  /** SASL_SSL listener port (stack.kafkaPort + 2). */
  tlsPort: number;
  /** PEM CA that signed the broker certificate; clients pass it as kafka.ssl.caFile. */
  caFile: string;
  keystoreFile: string;
  keystorePasswordFile: string;
  kafka: UserFile & { mechanism: typeof SCRAM_MECHANISM; broker: UserFile };
  influx: { admin: UserFile; writer: UserFile; database: string };
}

/** The settings of a secure stack in this folder, or undefined for a plain stack. */
export function readSecurity(layout: StackLayout): StackSecurity | undefined {
  if (!existsSync(layout.secrets.settings)) return undefined;
  return JSON.parse(readFileSync(layout.secrets.settings, 'utf8')) as StackSecurity;
}

/** A password of 32 hex digits: safe inside Kafka's `[name=...,password=...]` and JAAS quoting. */
function writePassword(file: string): void {
  if (!existsSync(file)) writeFileSync(file, randomBytes(16).toString('hex') + '\n', { mode: 0o600 });
}

export function readSecret(file: string): string {
  return readPasswordFile(file, file);
}

/** Generate what is missing (passwords, certificates) and record the settings. Idempotent. */
export async function ensureSecurity(layout: StackLayout, stack: StackConfig, log: Logger, database = 'diffwatch'): Promise<StackSecurity> {
  const existing = readSecurity(layout);
  if (existing) return existing;
  const dir = layout.secrets.dir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => join(dir, name);
  const sec: StackSecurity = {
    saslPort: stack.kafkaPort,
    tlsPort: stack.kafkaPort + KAFKA_TLS_PORT_OFFSET,
    caFile: file('ca.pem'),
    keystoreFile: file('broker.p12'),
    keystorePasswordFile: file('keystore.password'),
    kafka: { mechanism: SCRAM_MECHANISM, user: 'diffwatch', passwordFile: file('kafka-diffwatch.password'), broker: { user: 'diffwatch-broker', passwordFile: file('kafka-broker.password') } },
    influx: { admin: { user: 'admin', passwordFile: file('influx-admin.password') }, writer: { user: 'writer', passwordFile: file('influx-writer.password') }, database },
  };
  for (const f of [sec.keystorePasswordFile, sec.kafka.passwordFile, sec.kafka.broker.passwordFile, sec.influx.admin.passwordFile, sec.influx.writer.passwordFile]) writePassword(f);
  await makeCertificates({ dir, keystorePasswordFile: sec.keystorePasswordFile });
  writeFileSync(layout.secrets.settings, JSON.stringify(sec, null, 2) + '\n', { mode: 0o600 });
  log.info('secure stack credentials generated', { dir, caFile: sec.caFile });
  return sec;
}

/**
 * The environment a diffwatch service needs to reach the secure stack as the `diffwatch` Kafka
 * user and the InfluxDB writer: users and password *files*, never passwords.
 */
export function clientEnv(sec: StackSecurity, via: 'sasl' | 'tls' = 'sasl'): Record<string, string> {
  return {
    KAFKA_BROKERS: `127.0.0.1:${via === 'tls' ? sec.tlsPort : sec.saslPort}`,
    ...(via === 'tls' ? { KAFKA_SSL_CA_FILE: sec.caFile } : {}),
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: sec.kafka.user,
    KAFKA_SASL_PASSWORD_FILE: sec.kafka.passwordFile,
    INFLUX_USERNAME: sec.influx.writer.user,
    INFLUX_PASSWORD_FILE: sec.influx.writer.passwordFile,
  };
}

/** Ports of `stack up --secure` are the configured ones plus this, so it runs beside the plain stack. */
export const SECURE_PORT_OFFSET = 100;

/**
 * The stack `--secure` runs: `<stack.dir>-secure`, every port + 100 (by default SASL_PLAINTEXT
 * 9192, controller 9193, SASL_SSL 9194, InfluxDB 8186, registry 8181).
 */
export function secureStackConfig(stack: StackConfig): StackConfig {
  const o = SECURE_PORT_OFFSET;
  return { ...stack, dir: `${stack.dir}-secure`, kafkaPort: stack.kafkaPort + o, controllerPort: stack.controllerPort + o, influxPort: stack.influxPort + o, registryPort: stack.registryPort + o };
}
