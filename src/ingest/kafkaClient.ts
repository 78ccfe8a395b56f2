/**
 * The one place a kafkajs client is made: brokers, client id, TLS and SASL from the `kafka`
 * config section, logs through diffwatch's logger. Every client (service consumer and producers,
 * the state store, the CLI's replay, train and inspect, the readiness probe) gets the same
 * security settings this way.
 *
 * The password is read here, when the client is made (config/secrets.ts), and is never kept in
 * the config. A refused SASL login or TLS handshake on `connect()` becomes an AuthError naming
 * Kafka and the user: kafkajs does not retry a SASL failure (KafkaJSSASLAuthenticationError is
 * non-retriable), so start-up fails within a connection round trip instead of retrying for ever.
 *
 * @example
 * const kafka = createKafka(cfg.kafka, { log, clientIdSuffix: 'replay' });
 * const producer = kafka.producer(); // producer.connect() throws AuthError on a wrong password
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type RetryOptions, type SASLOptions } from 'kafkajs';
import type { KafkaConfig } from '../config/kafkaSchema.ts';
import { kafkaSaslPassword } from '../config/secrets.ts';
import { AuthError, ConfigError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { kafkaLogCreator } from './kafkaLogger.ts';

/** What a client needs of the `kafka` section; ssl and sasl default to off. */
export type KafkaClientConfig = Pick<KafkaConfig, 'brokers' | 'clientId'> & Partial<Pick<KafkaConfig, 'ssl' | 'sasl'>>;

export interface CreateKafkaOptions {
  /** Appended to `clientId` as `<clientId>-<suffix>`, so the broker logs tell the clients apart. */
  clientIdSuffix?: string;
  /** Route kafkajs logs here (at `level`); without it kafkajs logs nothing. */
  log?: Logger;
  /** Default WARN with a log, NOTHING without. */
  level?: logLevel;
  /** ms. */
  connectionTimeout?: number;
  /** ms. */
  requestTimeout?: number;
  retry?: RetryOptions;
  /** Where KAFKA_SASL_PASSWORD is read from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ConfigError(key, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** kafkajs `ssl`: false, or Node TLS options with the PEM files read. */
export function tlsOptions(ssl: KafkaConfig['ssl'] | undefined): false | ConnectionOptions {
  if (!ssl?.enabled) return false;
  return {
    rejectUnauthorized: ssl.rejectUnauthorized,
    ...(ssl.caFile !== null ? { ca: [readPem(ssl.caFile, 'kafka.ssl.caFile')] } : {}),
    ...(ssl.certFile !== null ? { cert: readPem(ssl.certFile, 'kafka.ssl.certFile') } : {}),
    ...(ssl.keyFile !== null ? { key: readPem(ssl.keyFile, 'kafka.ssl.keyFile') } : {}),
  };
}

/** kafkajs `sasl`, or undefined when no user is configured. */
export function saslOptions(sasl: KafkaConfig['sasl'] | undefined, env: NodeJS.ProcessEnv = process.env): SASLOptions | undefined {
  if (!sasl || sasl.username === null) return undefined;
  const password = kafkaSaslPassword(sasl, env);
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username: sasl.username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username: sasl.username, password };
    default:
      return { mechanism: 'scram-sha-512', username: sasl.username, password };
  }
}

/** An AuthError for a refused login or TLS handshake, or undefined for any other failure. */
export function kafkaAuthError(e: unknown, cfg: KafkaClientConfig): AuthError | undefined {
  if (e instanceof AuthError) return e;
  const err = e as { name?: string; message?: string };
  const user = cfg.sasl?.username ?? undefined;
  const brokers = cfg.brokers.join(',');
  if (err?.name === 'KafkaJSSASLAuthenticationError') {
    return new AuthError('kafka', `Kafka SASL authentication failed for user ${JSON.stringify(user)} (${cfg.sasl?.mechanism}) at ${brokers}: ${err.message}. Check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or kafka.sasl.passwordFile).`, { user, brokers }, e);
  }
  // Node's TLS errors (a certificate the CA does not vouch for, a wrong host name) arrive wrapped in a KafkaJSConnectionError.
  if (/certificate|self[- ]signed|SSL routines|handshake|ERR_TLS/i.test(err?.message ?? '')) {
    return new AuthError('kafka', `Kafka TLS handshake with ${brokers} failed: ${err.message}. Check kafka.ssl.caFile (KAFKA_SSL_CA_FILE) and that the listener speaks TLS.`, { user, brokers }, e);
  }
  return undefined;
}

/** `client.connect` rethrowing refused credentials as an AuthError. */
function authAwareConnect<T extends { connect(): Promise<void> }>(client: T, cfg: KafkaClientConfig): T {
  const connect = client.connect.bind(client);
  client.connect = async () => {
    try {
      await connect();
    } catch (e) {
      throw kafkaAuthError(e, cfg) ?? e;
    }
  };
  return client;
}

export function createKafka(cfg: KafkaClientConfig, opts: CreateKafkaOptions = {}): Kafka {
  const config: KafkaJsConfig = {
    clientId: opts.clientIdSuffix ? `${cfg.clientId}-${opts.clientIdSuffix}` : cfg.clientId,
    brokers: [...cfg.brokers],
    ssl: tlsOptions(cfg.ssl),
    sasl: saslOptions(cfg.sasl, opts.env),
    logLevel: opts.level ?? (opts.log ? logLevel.WARN : logLevel.NOTHING),
    ...(opts.log ? { logCreator: kafkaLogCreator(opts.log) } : {}),
    ...(opts.connectionTimeout !== undefined ? { connectionTimeout: opts.connectionTimeout } : {}),
    ...(opts.requestTimeout !== undefined ? { requestTimeout: opts.requestTimeout } : {}),
    ...(opts.retry !== undefined ? { retry: opts.retry } : {}),
  };
  const kafka = new Kafka(config);
  // kafkajs clients are plain objects; wrapping each one's connect keeps every call site unchanged.
  const { producer, consumer, admin } = kafka;
  kafka.producer = (o) => authAwareConnect(producer.call(kafka, o), cfg);
  kafka.consumer = (o) => authAwareConnect(consumer.call(kafka, o), cfg);
  kafka.admin = (o) => authAwareConnect(admin.call(kafka, o), cfg);
  return kafka;
}
