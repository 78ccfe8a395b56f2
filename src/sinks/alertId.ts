/**
 * Deterministic ids for alerts and their state-change events.
 *
 * An alert is identified by what it is about (entity, kind), when it started and which model
 * raised it, so a replay after a crash or rebalance produces the same id and consumers of the
 * `anomalies` topic can deduplicate (kafkajs' idempotent producer is experimental; ids are not).
 *
 * @example
 * const a = alertId('pump-7', 'score', 1_700_000_000_000, 'baseline@1');
 * const e = eventId(a, 'open', 1_700_000_060_000);
 */
import { createHash } from 'node:crypto';
import { DiffwatchError } from '../errors.ts';

/** Hex characters kept from the sha256 digest (128 bits: collisions are not a concern). */
export const ID_HEX_LENGTH = 32;

// Domain tags keep an alert id from ever equalling an event id built from the same strings.
const ALERT_DOMAIN = 'diffwatch.alert.v1';
const EVENT_DOMAIN = 'diffwatch.event.v1';

/**
 * The canonical encoding is a JSON array: strings are quoted and escaped, so no choice of
 * separators inside a value can make two different inputs encode alike ("a|b","c" vs "a","b|c").
 */
function digest(parts: readonly (string | number)[]): string {
  return createHash('sha256').update(JSON.stringify(parts), 'utf8').digest('hex').slice(0, ID_HEX_LENGTH);
}

function checkTime(name: string, ms: number): void {
  // JSON writes NaN and ±Infinity as null, which would make different inputs collide.
  if (!Number.isSafeInteger(ms)) {
    throw new DiffwatchError('ALERT_ID_INVALID', `${name} must be an integer epoch-ms value, got ${ms}`, { coords: { field: name } });
  }
}

/** The id of one alert: stable across replays of the same data with the same model. */
export function alertId(entityId: string, kind: string, startTime: number, modelVersion: string): string {
  checkTime('startTime', startTime);
  return digest([ALERT_DOMAIN, entityId, kind, startTime, modelVersion]);
}

/** The id of one state change (open, ongoing, resolved) of an alert, at the window end `endTime` (epoch ms). */
export function eventId(alert: string, state: string, endTime: number): string {
  checkTime('endTime', endTime);
  return digest([EVENT_DOMAIN, alert, state, endTime]);
}
