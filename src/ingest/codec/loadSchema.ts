/**
 * Loads `.avsc` files into avsc types with diffwatch's logical types registered.
 * `schemas/*.avsc` is the source of truth for every record on the wire.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { ConfigError } from '../../errors.ts';
import { TimestampMillisType } from './timestampMillis.ts';

/** The schemas shipped with diffwatch, resolved from this file so that any working directory works. */
export const READING_SCHEMA_PATH = fileURLToPath(new URL('../../../schemas/sensor-reading.avsc', import.meta.url));
export const ANOMALY_SCHEMA_PATH = fileURLToPath(new URL('../../../schemas/anomaly-event.avsc', import.meta.url));

/** Every avsc type in diffwatch is built with these; a missing entry silently degrades to the underlying type. */
export const LOGICAL_TYPES = { 'timestamp-millis': TimestampMillisType };

/** Builds a type from a parsed schema. Throws avsc's error on an invalid schema. */
export function parseSchema(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, { logicalTypes: LOGICAL_TYPES });
}

/**
 * Reads and parses one `.avsc` file.
 *
 * @param path file path, relative to the working directory or absolute
 * @param key config key that named the file, for the error (e.g. `ingest.schemaIds.7`)
 * @throws ConfigError when the file is missing, not JSON, or not a valid Avro schema
 */
export function loadSchema(path: string, key = 'schema'): avro.Type {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(key, `cannot read Avro schema ${path}: ${(err as Error).message}`);
  }
  try {
    return parseSchema(JSON.parse(text) as avro.Schema);
  } catch (err) {
    throw new ConfigError(key, `invalid Avro schema ${path}: ${(err as Error).message}`);
  }
}
