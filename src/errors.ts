/**
 * The one error tree of diffwatch. Every error has a stable `code` (listed in the README),
 * a `retriable` flag, and the coordinates of what failed.
 */
import type { SourceCoord } from './types.ts';

export interface ErrorCoordinates {
  topic?: string;
  partition?: number;
  offset?: string;
  /** Avro/JSON field path of a bad value, e.g. `values.temp`. */
  field?: string;
  /** Config key, e.g. `kafka.brokers`. */
  key?: string;
  sink?: string;
  batchSize?: number;
  entityId?: string;
  [extra: string]: unknown;
}

export class DiffwatchError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly coords: ErrorCoordinates;

  constructor(code: string, message: string, opts: { retriable?: boolean; coords?: ErrorCoordinates; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.coords = opts.coords ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, retriable: this.retriable, ...this.coords };
  }
}

/** A bad configuration value. Start-up stops with this. */
export class ConfigError extends DiffwatchError {
  constructor(key: string, message: string) {
    super('CONFIG_INVALID', `config ${key}: ${message}`, { coords: { key } });
  }
}

/** Codes of records routed to the dead-letter topic. */
export type DeadLetterCode =
  | 'DECODE_FAILED'
  | 'SCHEMA_UNKNOWN'
  | 'RECORD_INVALID'
  | 'NON_FINITE_VALUE'
  | 'MESSAGE_TOO_LARGE'
  | 'LATE_RECORD'
  | 'ENTITY_LIMIT';

/** A message that cannot be turned into a reading. It goes to `<topic>.dlq`. */
export class IngestError extends DiffwatchError {
  declare readonly code: DeadLetterCode;
  constructor(code: DeadLetterCode, message: string, source: SourceCoord, field?: string) {
    super(code, message, { coords: { ...source, ...(field ? { field } : {}) } });
  }
}

/** A sink write failure. `retriable` decides between back-off and giving the batch up. */
export class SinkError extends DiffwatchError {
  readonly status?: number;
  constructor(code: 'SINK_UNAVAILABLE' | 'SINK_REJECTED' | 'SINK_TOO_LARGE' | 'SINK_CLOSED', message: string, opts: { sink: string; batchSize?: number; status?: number; retriable: boolean; cause?: unknown }) {
    super(code, message, { retriable: opts.retriable, coords: { sink: opts.sink, batchSize: opts.batchSize }, cause: opts.cause });
    this.status = opts.status;
  }
}

/**
 * A point the line-protocol writer refuses to serialise (InfluxDB would reject it, or a name in
 * it would break the line or change its meaning). Coordinates: the measurement, the part that
 * failed (`tag key`, `tag value`, `field key`, `field value`, `measurement`, `timestamp`), its
 * key, the point's `entity` tag and timestamp, all printable.
 */
export class PointInvalid extends DiffwatchError {
  declare readonly code: 'POINT_INVALID';
  constructor(message: string, coords: ErrorCoordinates & { measurement?: string; part: string }) {
    super('POINT_INVALID', message, { coords: { sink: 'influxdb', ...coords } });
  }
}

/** A value that cannot be put into an InfluxQL query as an identifier or a string literal. */
export class QueryValueInvalid extends DiffwatchError {
  declare readonly code: 'QUERY_VALUE_INVALID';
  constructor(message: string, coords: ErrorCoordinates = {}) {
    super('QUERY_VALUE_INVALID', message, { coords: { sink: 'influxdb', ...coords } });
  }
}

/**
 * The schema registry could not be asked: refused, timed out, a 5xx, or an answer that is not the
 * Confluent API. An outage, not a bad message: the consumer waits and retries, nothing is dead-lettered.
 */
export class RegistryError extends DiffwatchError {
  declare readonly code: 'REGISTRY_UNAVAILABLE';
  constructor(message: string, coords: { url: string; schemaId?: number; status?: number }, cause?: unknown) {
    super('REGISTRY_UNAVAILABLE', message, { retriable: true, coords, cause });
  }
}

/**
 * A server refused our credentials: Kafka SASL authentication failed or the TLS handshake was
 * refused, or InfluxDB answered 401/403. Fatal at start-up: retrying the same password cannot
 * succeed, so the process exits instead of waiting for ever. The message names the service and
 * the user, never the password.
 */
export class AuthError extends DiffwatchError {
  declare readonly code: 'AUTH_FAILED';
  constructor(service: 'kafka' | 'influxdb', message: string, coords: { user?: string; status?: number; [extra: string]: unknown } = {}, cause?: unknown) {
    super('AUTH_FAILED', message, { coords: { service, ...coords }, cause });
  }
}

/**
 * The Kafka consumer stopped for good: kafkajs crashed it with an error it does not retry (for
 * example a group member with an incompatible assignment protocol, or a revoked ACL), so no
 * message will be fetched again. Fatal: the service stops and exits 1 for its supervisor to
 * restart it, instead of staying up with no input. Coordinates: the group, the kafkajs error's name.
 */
export class ConsumerError extends DiffwatchError {
  declare readonly code: 'CONSUMER_FAILED';
  constructor(message: string, coords: { groupId: string; kafkaError: string }, cause?: unknown) {
    super('CONSUMER_FAILED', message, { coords, cause });
  }
}

/** A local service (Kafka, InfluxDB) could not be provisioned or did not become healthy. */
export class StackError extends DiffwatchError {
  constructor(service: string, message: string, cause?: unknown) {
    super('STACK_FAILED', `${service}: ${message}`, { coords: { service }, cause });
  }
}

export type ModelErrorCode =
  | 'MODEL_MISMATCH'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_INVALID'
  | 'BACKEND_UNAVAILABLE'
  | 'WORKER_CRASHED'
  | 'POOL_CLOSED'
  | 'TRAINING_CANCELLED'
  | 'TRAINING_FAILED';

/** A model or checkpoint problem (shape mismatch, missing files, wrong channels). */
export class ModelError extends DiffwatchError {
  constructor(code: ModelErrorCode, message: string, coords: ErrorCoordinates = {}) {
    super(code, message, { coords });
  }
}
