import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../../src/errors.ts';
import { frameConfluent } from '../../../../src/ingest/codec/confluentWire.ts';
import { loadSchema } from '../../../../src/ingest/codec/loadSchema.ts';
import { createReadingDecoder } from '../../../../src/ingest/codec/readingDecoder.ts';
import { encodeReading } from '../../../../src/ingest/codec/readingEncoder.ts';
import { createResolverCache } from '../../../../src/ingest/codec/resolverCache.ts';
import { READING_SCHEMA, READING_V1_SCHEMA, source } from './fixtures.ts';

const v1Type = loadSchema(READING_V1_SCHEMA);
// v1 values are floats: 0.1 would not survive, these do.
const v1Record = { entityId: 'press-7', timestamp: 1_700_000_000_000, values: { temp: 21.5, rpm: 1480 }, site: 'lyon' };
const expected = { entityId: 'press-7', timestamp: 1_700_000_000_000, values: { temp: 21.5, rpm: 1480 } };

const decoder = createReadingDecoder({
  readerSchemaPath: READING_SCHEMA,
  formats: { legacy: 'avro', current: 'avro' },
  defaultFormat: 'confluent',
  schemaIds: { '1': READING_V1_SCHEMA, '2': READING_SCHEMA },
  writerSchemas: { legacy: READING_V1_SCHEMA },
  maxMessageBytes: 1024,
});

afterEach(() => vi.restoreAllMocks());

describe('schema evolution', () => {
  it('reads v1 bytes on a plain Avro topic that declares the v1 writer schema', () => {
    expect(decoder.decode(v1Type.toBuffer(v1Record), source('legacy'))).toEqual(expected);
  });

  it('reads v1 bytes framed with the v1 schema id, next to current bytes with id 2', () => {
    const v1Bytes = encodeReading(v1Record, 'confluent', { type: v1Type, schemaId: 1 });
    expect(decoder.decode(v1Bytes, source('registry'))).toEqual(expected);
    const current = { ...expected, tags: { site: 'lyon' } };
    expect(decoder.decode(encodeReading(current, 'confluent', { schemaId: 2 }), source('registry'))).toEqual(current);
  });

  it('does not read v1 bytes on a topic that declares no writer schema', () => {
    expect(() => decoder.decode(v1Type.toBuffer(v1Record), source('current'))).toThrow(expect.objectContaining({ code: 'DECODE_FAILED' }));
  });

  it('lets a newer reader with an added defaulted field read the current bytes', () => {
    const schema = JSON.parse(readFileSync(READING_SCHEMA, 'utf8'));
    schema.fields.push({ name: 'unit', type: 'string', default: 'si' });
    const dir = mkdtempSync(join(tmpdir(), 'diffwatch-codec-'));
    writeFileSync(join(dir, 'v3.avsc'), JSON.stringify(schema));
    const v3 = createReadingDecoder({
      readerSchemaPath: join(dir, 'v3.avsc'), formats: {}, defaultFormat: 'confluent', schemaIds: { '2': READING_SCHEMA }, maxMessageBytes: 1024,
    });
    expect(v3.decode(encodeReading(expected, 'confluent', { schemaId: 2 }), source('t'))).toEqual(expected);
  });

  it('refuses at start-up a writer schema the reader cannot resolve', () => {
    const dir = mkdtempSync(join(tmpdir(), 'diffwatch-codec-'));
    const path = join(dir, 'other.avsc');
    writeFileSync(path, JSON.stringify({ type: 'record', name: 'io.diffwatch.SensorReading', fields: [{ name: 'entityId', type: 'int' }] }));
    const create = () => createReadingDecoder({ readerSchemaPath: READING_SCHEMA, formats: {}, defaultFormat: 'confluent', schemaIds: { '5': path }, maxMessageBytes: 1 });
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(expect.objectContaining({ coords: { key: 'ingest.schemaIds.5' } }));
  });
});

describe('resolver cache', () => {
  it('builds one resolver per distinct writer schema, never per message', () => {
    const spy = vi.spyOn(avro.Type.prototype, 'createResolver');
    const d = createReadingDecoder({
      readerSchemaPath: READING_SCHEMA,
      formats: { legacy: 'avro' },
      defaultFormat: 'confluent',
      // Two ids for the same v1 file share one resolver.
      schemaIds: { '1': READING_V1_SCHEMA, '3': READING_V1_SCHEMA, '2': READING_SCHEMA },
      writerSchemas: { legacy: READING_V1_SCHEMA },
      maxMessageBytes: 1024,
    });
    const topLevel = spy.mock.calls.filter(([writer]) => avro.Type.isType(writer, 'record')).length;
    expect(topLevel).toBe(2);
    spy.mockClear();
    const payload = v1Type.toBuffer(v1Record);
    for (let i = 0; i < 50; i++) {
      expect(d.decode(frameConfluent(i % 2 ? 1 : 3, payload), source('t', String(i)))).toEqual(expected);
      expect(d.decode(payload, source('legacy'))).toEqual(expected);
    }
    expect(spy).not.toHaveBeenCalled();
  });

  it('returns the cached resolver for the same type and for an equal schema', () => {
    const reader = loadSchema(READING_SCHEMA);
    const cache = createResolverCache(reader);
    // avsc freezes types, so spy on the prototype and count the calls made on the reader.
    const spy = vi.spyOn(avro.Type.prototype, 'createResolver');
    const readerCalls = () => spy.mock.contexts.filter((self) => self === reader).length;
    const first = cache.get(v1Type);
    expect(cache.get(v1Type)).toBe(first);
    expect(cache.get(loadSchema(READING_V1_SCHEMA))).toBe(first);
    expect(cache.size).toBe(1);
    const second = cache.get(loadSchema(READING_SCHEMA));
    expect(second).not.toBe(first);
    expect(cache.size).toBe(2);
    expect(readerCalls()).toBe(2);
  });
});
