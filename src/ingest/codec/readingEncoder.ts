/**
 * `SensorReading` → Kafka message value, in any of the wire formats the decoder reads.
 * Used by producers (the demo, load generators) and tests. A reading the decoder would
 * reject is refused here too, so a producer cannot publish what diffwatch dead-letters.
 *
 * @example
 *   encodeReading({ entityId: 'press-7', timestamp: Date.now(), values: { temp: 21.5 } }, 'confluent', { schemaId: 1 })
 */
import type avro from 'avsc';
import type { IngestFormat } from '../../config/schema.ts';
import { DiffwatchError } from '../../errors.ts';
import type { SensorReading } from '../../types.ts';
import { frameConfluent } from './confluentWire.ts';
import { loadSchema, READING_SCHEMA_PATH } from './loadSchema.ts';
import { findInvalidField, validateReading } from './validateReading.ts';

export interface EncodeReadingOptions {
  /** Writer type; default: `schemas/sensor-reading.avsc`. Extra fields on the reading feed an older writer's fields. */
  type?: avro.Type;
  /** Schema id of `type` in the registry; required for `confluent`. */
  schemaId?: number;
  /** How `json` writes the timestamp: epoch ms (default) or an ISO-8601 string in UTC. */
  jsonTimestamp?: 'millis' | 'iso';
}

let readingType: avro.Type | undefined;

/** The shipped reading schema, loaded on first use. */
export function defaultReadingType(): avro.Type {
  readingType ??= loadSchema(READING_SCHEMA_PATH);
  return readingType;
}

/**
 * Encodes one reading.
 * @throws DiffwatchError `RECORD_INVALID` / `NON_FINITE_VALUE` with the field path, or
 *   `CONFIG_INVALID` for `confluent` without a schema id
 */
export function encodeReading(reading: SensorReading, format: IngestFormat, opts: EncodeReadingOptions = {}): Buffer {
  const type = opts.type ?? defaultReadingType();
  const record = { ...reading, tags: reading.tags ?? null };
  const problem = findInvalidField(type, record) ?? validateReading(reading);
  if (problem) {
    throw new DiffwatchError(problem.code, `cannot encode reading: ${problem.message}`, {
      coords: { field: problem.field, entityId: reading.entityId },
    });
  }
  switch (format) {
    case 'avro':
      return type.toBuffer(record);
    case 'confluent':
      if (opts.schemaId === undefined) {
        throw new DiffwatchError('CONFIG_INVALID', 'confluent encoding needs the schema id of the writer type', { coords: { key: 'schemaId' } });
      }
      return frameConfluent(opts.schemaId, type.toBuffer(record));
    case 'json': {
      const timestamp = opts.jsonTimestamp === 'iso' ? new Date(reading.timestamp).toISOString() : reading.timestamp;
      return Buffer.from(JSON.stringify({ ...reading, timestamp }), 'utf8');
    }
  }
}
