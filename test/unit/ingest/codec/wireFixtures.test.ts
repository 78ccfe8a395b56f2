/**
 * The bytes in test/fixtures/schemas/*.bytes.json were written from the Avro spec, not by
 * the codec: matching them both ways proves the wire format has not drifted.
 */
import { describe, expect, it } from 'vitest';
import { createAnomalyCodec } from '../../../../src/ingest/codec/anomalyCodec.ts';
import { loadSchema } from '../../../../src/ingest/codec/loadSchema.ts';
import { createReadingDecoder } from '../../../../src/ingest/codec/readingDecoder.ts';
import { encodeReading } from '../../../../src/ingest/codec/readingEncoder.ts';
import { anomalyBytes, READING_SCHEMA, READING_V1_SCHEMA, readingBytes, source } from './fixtures.ts';

const hex = (h: string) => Buffer.from(h, 'hex');

describe('wire fixtures', () => {
  const decoder = createReadingDecoder({
    readerSchemaPath: READING_SCHEMA,
    formats: { plain: 'avro', framed: 'confluent', text: 'json', legacy: 'avro' },
    defaultFormat: 'avro',
    schemaIds: { [String(readingBytes.confluentSchemaId)]: READING_SCHEMA },
    writerSchemas: { legacy: READING_V1_SCHEMA },
    maxMessageBytes: 1024,
  });

  it('encodes the known reading to the known plain Avro and Confluent bytes', () => {
    expect(encodeReading(readingBytes.reading, 'avro').toString('hex')).toBe(readingBytes.avroHex);
    expect(encodeReading(readingBytes.reading, 'confluent', { schemaId: readingBytes.confluentSchemaId }).toString('hex')).toBe(readingBytes.confluentHex);
  });

  it('decodes the known bytes of every format to the known reading', () => {
    expect(decoder.decode(hex(readingBytes.avroHex), source('plain'))).toEqual(readingBytes.reading);
    expect(decoder.decode(hex(readingBytes.confluentHex), source('framed'))).toEqual(readingBytes.reading);
    expect(decoder.decode(Buffer.from(readingBytes.jsonText), source('text'))).toEqual(readingBytes.reading);
  });

  it('matches the known bytes of the v1 writer schema', () => {
    const v1 = loadSchema(READING_V1_SCHEMA);
    expect(v1.toBuffer(readingBytes.v1.record).toString('hex')).toBe(readingBytes.v1.avroHex);
    const { site: _site, ...rest } = readingBytes.v1.record;
    expect(decoder.decode(hex(readingBytes.v1.avroHex), source('legacy'))).toEqual(rest);
  });

  it('encodes and decodes the known anomaly event to and from the known bytes', () => {
    const codec = createAnomalyCodec();
    expect(codec.encode(anomalyBytes.event).toString('hex')).toBe(anomalyBytes.avroHex);
    expect(codec.decode(hex(anomalyBytes.avroHex))).toEqual(anomalyBytes.event);
  });
});
