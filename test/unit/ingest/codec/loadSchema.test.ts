import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.ts';
import { ANOMALY_SCHEMA_PATH, loadSchema, READING_SCHEMA_PATH } from '../../../../src/ingest/codec/loadSchema.ts';
import { createReadingDecoder } from '../../../../src/ingest/codec/readingDecoder.ts';
import { TimestampMillisType } from '../../../../src/ingest/codec/timestampMillis.ts';

const dir = mkdtempSync(join(tmpdir(), 'diffwatch-schema-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
type Fields = { fields: { name: string; type: unknown }[] };

describe('loadSchema', () => {
  it('loads the shipped schemas with their timestamp fields as timestamp-millis', () => {
    const reading = loadSchema(READING_SCHEMA_PATH) as unknown as Fields;
    expect(reading.fields.map((f) => f.name)).toEqual(['entityId', 'timestamp', 'values', 'tags']);
    expect(reading.fields[1].type).toBeInstanceOf(TimestampMillisType);
    const anomaly = loadSchema(ANOMALY_SCHEMA_PATH) as unknown as Fields;
    for (const name of ['startTime', 'endTime', 'detectedAt']) {
      expect(anomaly.fields.find((f) => f.name === name)?.type).toBeInstanceOf(TimestampMillisType);
    }
  });

  it('names the config key and the file in its errors', () => {
    expect(() => loadSchema(join(dir, 'missing.avsc'), 'ingest.readingSchema')).toThrow(ConfigError);
    expect(() => loadSchema(join(dir, 'missing.avsc'), 'ingest.readingSchema')).toThrow(/config ingest.readingSchema: cannot read Avro schema .*missing.avsc/);
    expect(() => loadSchema(file('bad.json', '{'), 'k')).toThrow(/invalid Avro schema/);
    expect(() => loadSchema(file('bad.avsc', '{"type":"record","name":"R","fields":[{"name":"a","type":"nope"}]}'), 'k')).toThrow(/invalid Avro schema/);
  });
});

describe('createReadingDecoder: start-up checks', () => {
  const base = { readerSchemaPath: READING_SCHEMA_PATH, formats: {}, defaultFormat: 'avro' as const, schemaIds: {}, maxMessageBytes: 10 };
  const keyOf = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).coords.key;
    }
    throw new Error('expected a ConfigError');
  };

  it('refuses bad sizes, ids, paths and writer schemas on non-avro topics', () => {
    expect(keyOf(() => createReadingDecoder({ ...base, maxMessageBytes: 0 }))).toBe('ingest.maxMessageBytes');
    expect(keyOf(() => createReadingDecoder({ ...base, schemaIds: { x: READING_SCHEMA_PATH } }))).toBe('ingest.schemaIds.x');
    expect(keyOf(() => createReadingDecoder({ ...base, schemaIds: { '4294967296': READING_SCHEMA_PATH } }))).toBe('ingest.schemaIds.4294967296');
    expect(keyOf(() => createReadingDecoder({ ...base, readerSchemaPath: join(dir, 'none.avsc') }))).toBe('ingest.readingSchema');
    expect(keyOf(() => createReadingDecoder({ ...base, schemaIds: { '3': join(dir, 'none.avsc') } }))).toBe('ingest.schemaIds.3');
    const jsonTopic = { ...base, formats: { t: 'json' as const }, writerSchemas: { t: READING_SCHEMA_PATH } };
    expect(keyOf(() => createReadingDecoder(jsonTopic))).toBe('ingest.writerSchemas.t');
  });
});
