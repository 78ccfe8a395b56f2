/**
 * The rules a decoded reading must pass beyond its Avro type, shared by every format
 * and by the encoder, and the field-path lookup used to report a bad value.
 */
import type avro from 'avsc';
import type { SensorReading } from '../../types.ts';

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

/**
 * Rules the schema cannot express: a non-empty entity id (readings are grouped by it)
 * and finite channel values (Avro doubles and JSON numbers like 1e999 can carry NaN or ±Infinity).
 */
export function validateReading(reading: SensorReading): FieldProblem | undefined {
  if (reading.entityId.length === 0) {
    return { code: 'RECORD_INVALID', field: 'entityId', message: 'entityId: must not be empty' };
  }
  for (const [channel, value] of Object.entries(reading.values)) {
    if (!Number.isFinite(value)) {
      return { code: 'NON_FINITE_VALUE', field: `values.${channel}`, message: `values.${channel}: ${value} is not finite` };
    }
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
