/**
 * The rules a decoded reading must pass beyond its Avro type, shared by every format
 * and by the encoder, and the field-path lookup used to report a bad value.
 */
import type avro from 'avsc';
import type { SensorReading } from '../../types.ts';
import { DEFAULT_MAX_NAME_LENGTH, printable, textProblem } from '../../textRules.ts';

export interface FieldProblem {
  code: 'RECORD_INVALID' | 'NON_FINITE_VALUE';
  /** Field path, e.g. `entityId` or `values.temp`; empty for the record itself. */
  field: string;
  message: string;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  const json = JSON.stringify(value);
  return json === undefined ? typeof value : json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/**
 * The first field of `value` that does not match `type`, with its path, via avsc's
 * `isValid(value, { errorHook })`. Undefined when the value is valid.
 */
export function findInvalidField(type: avro.Type, value: unknown): FieldProblem | undefined {
  let problem: FieldProblem | undefined;
  type.isValid(value, {
    errorHook(path: string[], bad: unknown, badType: avro.Type) {
      // avsc reports every bad field; the first is enough for a dead-letter record.
      if (problem) return;
      const field = path.join('.');
      const expected = badType.typeName;
      problem = {
        code: 'RECORD_INVALID',
        field,
        message: `${field || 'record'}: expected ${expected}, got ${describe(bad)}`,
      };
    },
  });
  return problem;
}

/** Limits on the names a reading carries (`ingest.maxNameLength`). */
export interface ReadingLimits {
  /** characters (code points) per entity id, channel name, tag key and tag value. */
  maxNameLength: number;
}

const DEFAULT_LIMITS: ReadingLimits = { maxNameLength: DEFAULT_MAX_NAME_LENGTH };

function nameProblem(field: string, what: string, text: string, limits: ReadingLimits): FieldProblem | undefined {
  const why = textProblem(text, limits.maxNameLength);
  if (why === undefined) return undefined;
  return { code: 'RECORD_INVALID', field, message: `${field}: ${what} "${printable(text)}" ${why}` };
}

/**
 * Rules the schema cannot express: entity ids, channel names and tags follow the name rules
 * of textRules.ts (they become InfluxDB tags and field keys, Kafka keys and file names), and
 * channel values are finite (Avro doubles and JSON numbers like 1e999 can carry NaN or ±Infinity).
 */
export function validateReading(reading: SensorReading, limits: ReadingLimits = DEFAULT_LIMITS): FieldProblem | undefined {
  const id = nameProblem('entityId', 'entity id', reading.entityId, limits);
  if (id) return id;
  for (const [channel, value] of Object.entries(reading.values)) {
    const name = nameProblem('values', 'channel name', channel, limits);
    if (name) return name;
    if (!Number.isFinite(value)) {
      return { code: 'NON_FINITE_VALUE', field: `values.${channel}`, message: `values.${channel}: ${value} is not finite` };
    }
  }
  for (const [key, value] of Object.entries(reading.tags ?? {})) {
    const bad = nameProblem('tags', 'tag key', key, limits) ?? nameProblem(`tags.${key}`, 'tag value', value, limits);
    if (bad) return bad;
  }
  return undefined;
}

/**
 * A plain `SensorReading` from a record that matched the reader schema (an avsc record
 * instance or a validated JSON object). Fields the reader does not know are dropped;
 * a null `tags` is left out.
 */
export function toSensorReading(record: Record<string, unknown>): SensorReading {
  const reading: SensorReading = {
    entityId: record.entityId as string,
    timestamp: record.timestamp as number,
    values: { ...(record.values as Record<string, number>) },
  };
  if (record.tags !== null && record.tags !== undefined) reading.tags = { ...(record.tags as Record<string, string>) };
  return reading;
}
