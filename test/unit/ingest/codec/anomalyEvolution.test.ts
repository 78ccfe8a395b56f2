/**
 * schemas/anomaly-event.avsc evolves compatibly: the schema of the first release
 * (test/fixtures/schemas/anomaly-event.v1.avsc, where `detectedAt` had no default) and the
 * current one read each other's bytes, and the default of `detectedAt` is what a reader sees
 * when a writer leaves the field out.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { createAnomalyCodec } from '../../../../src/ingest/codec/anomalyCodec.ts';
import { ANOMALY_SCHEMA_PATH, loadSchema, parseSchema } from '../../../../src/ingest/codec/loadSchema.ts';
import { anomalyBytes } from './fixtures.ts';

const V1_PATH = fileURLToPath(new URL('../../../fixtures/schemas/anomaly-event.v1.avsc', import.meta.url));
type RecordSchema = avro.schema.RecordType & { fields: (avro.schema.RecordType['fields'][number] & { default?: unknown })[] };

const v1 = loadSchema(V1_PATH);
const current = loadSchema(ANOMALY_SCHEMA_PATH);
const read = (reader: avro.Type, writer: avro.Type, buf: Buffer) => reader.fromBuffer(buf, reader.createResolver(writer)) as Record<string, unknown>;

describe('anomaly-event schema evolution', () => {
  it('gives detectedAt a default, and keeps the wire encoding of the first release', () => {
    const schema = JSON.parse(readFileSync(ANOMALY_SCHEMA_PATH, 'utf8')) as RecordSchema;
    expect(schema.fields.find((f) => f.name === 'detectedAt')?.default).toBe(0);
    // Same fields, same order, same types: a record encodes to the same bytes under both.
    expect(current.toBuffer(anomalyBytes.event).toString('hex')).toBe(v1.toBuffer(anomalyBytes.event).toString('hex'));
  });

  it('reads bytes of the first release with the current schema, and current bytes with the first', () => {
    const event = { ...anomalyBytes.event, detectedAt: 1_760_000_000_123 };
    expect(read(current, v1, v1.toBuffer(event))).toMatchObject(event);
    expect(read(v1, current, createAnomalyCodec().encode(event))).toMatchObject(event);
  });

  it('reads a writer without detectedAt as detectedAt 0 (unknown)', () => {
    const schema = JSON.parse(readFileSync(ANOMALY_SCHEMA_PATH, 'utf8')) as RecordSchema;
    const writer = parseSchema({ ...schema, fields: schema.fields.filter((f) => f.name !== 'detectedAt') });
    const { detectedAt: _, ...rest } = anomalyBytes.event;
    expect(read(current, writer, writer.toBuffer(rest))).toMatchObject({ ...rest, detectedAt: 0 });
  });
});
