/**
 * The record format of the detector-state topic (`diffwatch.state`, compacted, keyed by entity).
 *
 * Key = entity id (UTF-8). Value = JSON `{ v: 1, entityId, updatedAt, state }`, or null for a
 * tombstone (the entity's state was removed; compaction later drops the key entirely). The
 * envelope is versioned so the format can evolve: a reader rejects a `v` it does not know instead
 * of guessing at its meaning.
 *
 * A value of `GZIP_FROM_BYTES` or more is written gzip-compressed (the same JSON; it starts with
 * gzip's magic bytes 1f 8b, where JSON starts with `{`), and a reader takes either. Why: the
 * detector's histories are base64 inside the JSON, and gzip gives back the quarter that base64
 * adds, which keeps an entity's record under 16 kB; small records stay readable as they are.
 * A diffwatch from before this reads such a record as invalid, skips it with a warning and warms
 * that entity up again.
 *
 * `state` is whatever the detection modules snapshot (threshold estimator, calibration, alert
 * lifecycle); the store reads only `modelVersion` and `lastWindowEnd` from it.
 *
 * @example
 * const value = encodeStateValue({ entityId: 'pump-7', updatedAt: Date.now(), state });
 * const rec = decodeStateRecord(key, value, { topic, partition, offset }); // { kind: 'put', record }
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { DiffwatchError } from '../errors.ts';
import type { SourceCoord } from '../types.ts';

/** The envelope version this code writes and the only one it reads. */
export const STATE_ENVELOPE_VERSION = 1;

/** JSON values of this size (bytes) or more are written gzip-compressed. */
export const GZIP_FROM_BYTES = 4_096;
const GZIP_MAGIC = [0x1f, 0x8b];
/**
 * The most a compressed record may inflate to. A full record is tens of kB (about 1.5 kB per
 * channel with the onset judge); gzip can inflate a 1 MiB message a thousandfold, so a corrupt
 * or hostile record must not be allowed to claim a gigabyte at start-up.
 */
export const STATE_RECORD_MAX_BYTES = 16 * 1024 * 1024;

/** Per-entity detector state: an opaque JSON object with two fields the service reads. */
export interface EntityState {
  /** Version of the model whose scores the state was calibrated on. */
  modelVersion: string;
  /** End time of the newest window folded into the state, epoch ms. */
  lastWindowEnd: number;
  [key: string]: unknown;
}

/** One entity's state as stored (and as `load` returns it). */
export interface EntityStateRecord {
  entityId: string;
  /** Wall-clock time the state was put, epoch ms. */
  updatedAt: number;
  state: EntityState;
}

export type StateErrorCode = 'STATE_VERSION_UNKNOWN' | 'STATE_RECORD_INVALID' | 'STATE_LOAD_TIMEOUT' | 'STATE_UNAVAILABLE' | 'STATE_CLOSED';

/**
 * A detector-state record or topic problem. Record errors carry the record's coordinates
 * (topic, partition, offset, entityId, field); `load` skips such a record with a warning.
 */
export class StateStoreError extends DiffwatchError {
  declare readonly code: StateErrorCode;
  constructor(code: StateErrorCode, message: string, opts: { retriable?: boolean; coords?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, opts);
  }
}

/** What a record of the topic means. */
export type DecodedStateRecord = { kind: 'put'; record: EntityStateRecord } | { kind: 'tombstone'; entityId: string };

/** Throws `STATE_RECORD_INVALID` unless `state` has a string `modelVersion` and a finite `lastWindowEnd`. */
export function checkEntityState(state: unknown, coords: Record<string, unknown> = {}): asserts state is EntityState {
  const bad = (field: string, why: string) => new StateStoreError('STATE_RECORD_INVALID', `detector state ${why}`, { coords: { ...coords, field } });
  if (typeof state !== 'object' || state === null || Array.isArray(state)) throw bad('state', 'must be a JSON object');
  const s = state as Record<string, unknown>;
  if (typeof s.modelVersion !== 'string') throw bad('state.modelVersion', `needs a string modelVersion, got ${JSON.stringify(s.modelVersion)}`);
  if (typeof s.lastWindowEnd !== 'number' || !Number.isFinite(s.lastWindowEnd)) {
    throw bad('state.lastWindowEnd', `needs a finite lastWindowEnd (epoch ms), got ${JSON.stringify(s.lastWindowEnd)}`);
  }
}

/** The message value of one entity's state. Throws `STATE_RECORD_INVALID` for a state JSON cannot carry. */
export function encodeStateValue(rec: EntityStateRecord): Buffer {
  checkEntityState(rec.state, { entityId: rec.entityId });
  let json: string;
  try {
    json = JSON.stringify({ v: STATE_ENVELOPE_VERSION, entityId: rec.entityId, updatedAt: rec.updatedAt, state: rec.state });
  } catch (e) {
    // BigInt or a cycle: fail at the put, where the caller still knows which module produced it.
    throw new StateStoreError('STATE_RECORD_INVALID', `detector state of ${rec.entityId} is not JSON-serialisable: ${(e as Error).message}`, { coords: { entityId: rec.entityId, field: 'state' }, cause: e });
  }
  const value = Buffer.from(json, 'utf8');
  // Level 1: the base64 histories gain as much from it as from the default level, at a third of the time.
  return value.length >= GZIP_FROM_BYTES ? gzipSync(value, { level: 1 }) : value;
}

/**
 * Decode one message of the state topic. A null value is a tombstone. Throws
 * `STATE_VERSION_UNKNOWN` for an envelope version this code does not read and
 * `STATE_RECORD_INVALID` for anything else that is not a well-formed envelope.
 */
export function decodeStateRecord(key: Buffer | null, value: Buffer | null, source: SourceCoord): DecodedStateRecord {
  const coords: Record<string, unknown> = { ...source };
  if (key === null || key.length === 0) throw new StateStoreError('STATE_RECORD_INVALID', 'state record has no key (the entity id)', { coords: { ...coords, field: 'key' } });
  const entityId = key.toString('utf8');
  coords.entityId = entityId;
  if (value === null) return { kind: 'tombstone', entityId };

  let env: unknown;
  try {
    const json = value[0] === GZIP_MAGIC[0] && value[1] === GZIP_MAGIC[1] ? gunzipSync(value, { maxOutputLength: STATE_RECORD_MAX_BYTES }) : value;
    env = JSON.parse(json.toString('utf8'));
  } catch (e) {
    // zlib stops at maxOutputLength with a RangeError (Node's ERR_BUFFER_TOO_LARGE).
    if (e instanceof RangeError) {
      throw new StateStoreError('STATE_RECORD_INVALID', `state record inflates to more than ${STATE_RECORD_MAX_BYTES} bytes; it is not a detector state`, { coords: { ...coords, field: 'value' }, cause: e });
    }
    throw new StateStoreError('STATE_RECORD_INVALID', `state record is not JSON (nor gzip-compressed JSON): ${(e as Error).message}`, { coords: { ...coords, field: 'value' }, cause: e });
  }
  if (typeof env !== 'object' || env === null || Array.isArray(env)) throw new StateStoreError('STATE_RECORD_INVALID', 'state record is not a JSON object', { coords: { ...coords, field: 'value' } });
  const e = env as Record<string, unknown>;
  if (e.v !== STATE_ENVELOPE_VERSION) {
    throw new StateStoreError('STATE_VERSION_UNKNOWN', `state envelope version ${JSON.stringify(e.v)} is not supported (this build reads v${STATE_ENVELOPE_VERSION}); was it written by a newer diffwatch?`, { coords: { ...coords, field: 'v' } });
  }
  if (e.entityId !== entityId) {
    throw new StateStoreError('STATE_RECORD_INVALID', `state envelope is for ${JSON.stringify(e.entityId)} but keyed ${JSON.stringify(entityId)}`, { coords: { ...coords, field: 'entityId' } });
  }
  if (typeof e.updatedAt !== 'number' || !Number.isFinite(e.updatedAt)) {
    throw new StateStoreError('STATE_RECORD_INVALID', `state envelope needs a finite updatedAt, got ${JSON.stringify(e.updatedAt)}`, { coords: { ...coords, field: 'updatedAt' } });
  }
  checkEntityState(e.state, coords);
  return { kind: 'put', record: { entityId, updatedAt: e.updatedAt, state: e.state } };
}
