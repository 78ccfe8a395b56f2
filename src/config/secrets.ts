/**
 * The passwords, read when a client is made and never kept in the config: from the environment
 * (`KAFKA_SASL_PASSWORD`, `INFLUX_PASSWORD`) or else from the file the config names
 * (`kafka.sasl.passwordFile`, `sinks.influx.passwordFile`, or their `_FILE` variables).
 *
 * @example
 * const password = kafkaSaslPassword(cfg.kafka.sasl); // throws ConfigError when there is none
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import type { InfluxConfig } from './sinksSchema.ts';
import type { KafkaConfig } from './kafkaSchema.ts';

/** The text of a password file without its one trailing newline (`echo secret > file` adds it). */
export function readPasswordFile(file: string, key: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    // The message names the file and the reason, never the content.
    throw new ConfigError(key, `cannot read the password file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new ConfigError(key, `the password file ${file} is empty`);
  return password;
}

function password(opts: { env: NodeJS.ProcessEnv; envName: string; file: string | null; fileKey: string; user: string; userEnv: string }): string {
  const fromEnv = opts.env[opts.envName];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (opts.file !== null) return readPasswordFile(opts.file, opts.fileKey);
  throw new ConfigError(opts.fileKey, `user ${JSON.stringify(opts.user)} is set (${opts.userEnv}) but no password: set ${opts.envName}, or ${opts.fileKey} (${opts.envName}_FILE) to a file holding it`);
}

export function kafkaSaslPassword(sasl: KafkaConfig['sasl'], env: NodeJS.ProcessEnv = process.env): string {
  if (sasl.username === null) throw new ConfigError('kafka.sasl.username', 'no SASL user is set');
  return password({ env, envName: 'KAFKA_SASL_PASSWORD', file: sasl.passwordFile, fileKey: 'kafka.sasl.passwordFile', user: sasl.username, userEnv: 'KAFKA_SASL_USERNAME' });
}

/** The InfluxDB user and password, or undefined when no user is configured (a server without auth). */
export function influxCredentials(influx: Pick<InfluxConfig, 'username' | 'passwordFile'>, env: NodeJS.ProcessEnv = process.env): { username: string; password: string } | undefined {
  if (influx.username === null || influx.username === undefined) return undefined;
  const p = password({ env, envName: 'INFLUX_PASSWORD', file: influx.passwordFile ?? null, fileKey: 'sinks.influx.passwordFile', user: influx.username, userEnv: 'INFLUX_USERNAME' });
  return { username: influx.username, password: p };
}

/**
 * `url` with the configured InfluxDB user and password in it, for clients that take credentials
 * only in the URL (they move them into a Basic Authorization header). Unchanged when no user is set.
 */
export function influxUrlWithCredentials(url: string, influx: Pick<InfluxConfig, 'username' | 'passwordFile'>, env: NodeJS.ProcessEnv = process.env): string {
  const creds = influxCredentials(influx, env);
  if (!creds) return url;
  const u = new URL(url);
  u.username = encodeURIComponent(creds.username);
  u.password = encodeURIComponent(creds.password);
  return u.toString();
}
