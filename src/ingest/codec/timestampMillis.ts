/**
 * The Avro `timestamp-millis` logical type for avsc, which has none built in: without it
 * a `{"type": "long", "logicalType": "timestamp-millis"}` field silently stays a plain long.
 *
 * Representation: decoded values are epoch milliseconds as a JS `number` (what
 * `SensorReading.timestamp` and `AnomalyEvent.startTime` hold), not `Date`, so records
 * flow through the pipeline without conversion. Encoding accepts a number or a `Date`.
 *
 * @example
 *   avro.Type.forSchema(schema, { logicalTypes: { 'timestamp-millis': TimestampMillisType } })
 *
 * See https://github.com/mtth/avsc/wiki/Advanced-usage#logical-types
 */
import avro from 'avsc';

/** ms; the range of a JS `Date` (ECMA-262 §21.4.1.1): ±100,000,000 days around the epoch. */
export const MAX_TIMESTAMP_MS = 8.64e15;

/**
 * Thrown while reading a long that is no valid date. It is a signal from inside avsc's
 * read path; the decoders turn it into a typed error with the message coordinates.
 */
export class TimestampRangeError extends RangeError {
  constructor(readonly value: unknown) {
    super(`timestamp-millis: ${String(value)} is not a valid date (epoch ms within ±${MAX_TIMESTAMP_MS})`);
    this.name = 'TimestampRangeError';
  }
}

/** Epoch ms of a number or a Date, or undefined when it is no valid date. */
export function toEpochMillis(value: unknown): number | undefined {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || Math.abs(ms) > MAX_TIMESTAMP_MS) return undefined;
  return ms;
}

export class TimestampMillisType extends avro.types.LogicalType {
  /** long read from the wire → epoch ms. */
  protected override _fromValue(value: unknown): number {
    const ms = toEpochMillis(value);
    if (ms === undefined) throw new TimestampRangeError(value);
    return ms;
  }

  /**
   * number | Date → long to write. Throwing here makes `toBuffer` fail with a clear message;
   * avsc's `isValid` catches it and reports the field through `errorHook`.
   */
  protected override _toValue(value: unknown): number {
    const ms = toEpochMillis(value);
    if (ms === undefined) throw new TimestampRangeError(value instanceof Date ? 'Invalid Date' : value);
    return ms;
  }

  /**
   * Writers this type can read: a plain long or int (old producers that did not annotate
   * the field) and another timestamp-millis. Anything else makes `createResolver` throw.
   */
  protected override _resolve(writer: avro.Type): ((value: unknown) => number) | undefined {
    if (avro.Type.isType(writer, 'long', 'int', 'logical:timestamp-millis')) {
      return (value) => this._fromValue(value);
    }
    return undefined;
  }
}

// YYYY-MM-DDTHH:MM[:SS[.fraction]] with a mandatory zone: a time without a zone would be
// read in the consumer's local time, which differs between hosts.
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses a strict ISO-8601 date-time with a zone into epoch ms, or undefined.
 * `Date.parse` alone is too lenient: it accepts other formats and rolls `02-30` over to March.
 *
 * @example parseIsoMillis('2023-11-14T22:13:20.000Z') // 1700000000000
 */
export function parseIsoMillis(text: string): number | undefined {
  const m = ISO_8601.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  const zone = m[7];
  if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4, 6)) > 59)) return undefined;
  // Date.parse keeps only millisecond precision, which is what timestamp-millis carries.
  return toEpochMillis(Date.parse(text));
}
