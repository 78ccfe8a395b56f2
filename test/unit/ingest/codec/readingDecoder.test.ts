import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { IngestError } from '../../../../src/errors.ts';
import { frameConfluent } from '../../../../src/ingest/codec/confluentWire.ts';
import { createReadingDecoder, type ReadingDecoderOptions } from '../../../../src/ingest/codec/readingDecoder.ts';
import { defaultReadingType, encodeReading } from '../../../../src/ingest/codec/readingEncoder.ts';
import type { SensorReading, SourceCoord } from '../../../../src/types.ts';
import { READING_SCHEMA, source } from './fixtures.ts';

const options: ReadingDecoderOptions = {
  readerSchemaPath: READING_SCHEMA,
  formats: { 'tel.json': 'json', 'tel.avro': 'avro' },
  defaultFormat: 'confluent',
  schemaIds: { '1': READING_SCHEMA },
  maxMessageBytes: 512,
};
const { decode, formatOf } = createReadingDecoder(options);

const reading: SensorReading = { entityId: 'press-7', timestamp: 1_700_000_000_123, values: { temp: 21.5, 'rpm.avg': -3 } };
const src = source('tel.avro');

/** Runs `fn`, expects an IngestError, and returns its code, field and coordinates. */
function failure(fn: () => unknown): { code: string; field?: unknown; message: string; coords: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(IngestError);
    const e = err as IngestError;
    return { code: e.code, field: e.coords.field, message: e.message, coords: e.coords };
  }
  throw new Error('expected decode to throw');
}
const json = (value: unknown, s: SourceCoord = source('tel.json')) => failure(() => decode(Buffer.from(JSON.stringify(value)), s));

describe('createReadingDecoder: formats', () => {
  it('picks the format per topic, with the default for other topics', () => {
    expect(formatOf('tel.json')).toBe('json');
    expect(formatOf('tel.avro')).toBe('avro');
    expect(formatOf('anything')).toBe('confluent');
  });

  it('round-trips a reading through each format, with and without tags', () => {
    const tagged = { ...reading, tags: { site: 'lyon', line: 'B 2' } };
    for (const r of [reading, tagged]) {
      expect(decode(encodeReading(r, 'avro'), src)).toEqual(r);
      expect(decode(encodeReading(r, 'confluent', { schemaId: 1 }), source('other'))).toEqual(r);
      expect(decode(encodeReading(r, 'json'), source('tel.json'))).toEqual(r);
      expect(decode(encodeReading(r, 'json', { jsonTimestamp: 'iso' }), source('tel.json'))).toEqual(r);
    }
  });

  it('returns plain readings without a tags key when tags is null', () => {
    const decoded = decode(encodeReading(reading, 'avro'), src);
    expect(Object.keys(decoded)).toEqual(['entityId', 'timestamp', 'values']);
    expect(decode(Buffer.from(JSON.stringify({ ...reading, tags: null })), source('tel.json'))).toEqual(reading);
  });

  it('accepts JSON with an ISO timestamp in another zone and ignores unknown fields', () => {
    const text = JSON.stringify({ entityId: 'e', timestamp: '2023-11-15T01:13:20.250+03:00', values: { a: 1 }, firmware: '2.1' });
    expect(decode(Buffer.from(text), source('tel.json'))).toEqual({ entityId: 'e', timestamp: 1_700_000_000_250, values: { a: 1 } });
  });
});

describe('createReadingDecoder: errors carry code, coordinates and field path', () => {
  it('MESSAGE_TOO_LARGE above maxMessageBytes, checked before parsing', () => {
    const f = failure(() => decode(Buffer.alloc(513, 0xff), src));
    expect(f.code).toBe('MESSAGE_TOO_LARGE');
    expect(f.coords).toMatchObject({ topic: 'tel.avro', partition: 3, offset: '42' });
    expect(() => decode(Buffer.alloc(512, 0), src)).toThrow(/avro decode failed/);
  });

  it('DECODE_FAILED for a null value, truncated bytes, trailing bytes and garbage', () => {
    const bytes = encodeReading(reading, 'avro');
    expect(failure(() => decode(null, src)).code).toBe('DECODE_FAILED');
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(failure(() => decode(bytes.subarray(0, cut), src)).code, `cut at ${cut}`).toBe('DECODE_FAILED');
    }
    const trailing = failure(() => decode(Buffer.concat([bytes, Buffer.from([0])]), src));
    expect(trailing).toMatchObject({ code: 'DECODE_FAILED', message: 'avro decode failed: trailing data' });
    expect(failure(() => decode(Buffer.from('not avro at all'), src)).code).toBe('DECODE_FAILED');
  });

  it('DECODE_FAILED for bad JSON and for bytes that are not UTF-8', () => {
    const s = source('tel.json');
    expect(failure(() => decode(Buffer.from('{"entityId": "e",'), s)).code).toBe('DECODE_FAILED');
    expect(failure(() => decode(Buffer.from([0x7b, 0xff, 0x7d]), s)).code).toBe('DECODE_FAILED');
  });

  it('DECODE_FAILED for a bad magic byte or a short frame; SCHEMA_UNKNOWN for an unmapped id', () => {
    const payload = encodeReading(reading, 'avro');
    const framed = frameConfluent(1, payload);
    framed[0] = 1;
    expect(failure(() => decode(framed, source('other')))).toMatchObject({ code: 'DECODE_FAILED', message: expect.stringMatching(/magic byte/) });
    expect(failure(() => decode(Buffer.from([0, 0, 0]), source('other'))).code).toBe('DECODE_FAILED');
    const unknown = failure(() => decode(frameConfluent(99, payload), source('other')));
    expect(unknown).toMatchObject({ code: 'SCHEMA_UNKNOWN', message: expect.stringMatching(/schema id 99/) });
    expect(unknown.coords).toMatchObject({ topic: 'other', partition: 3, offset: '42' });
  });

  it('RECORD_INVALID with the JSON field path', () => {
    expect(json({ timestamp: 1, values: {} })).toMatchObject({ code: 'RECORD_INVALID', field: 'entityId' });
    expect(json({ entityId: 7, timestamp: 1, values: {} })).toMatchObject({ code: 'RECORD_INVALID', field: 'entityId' });
    expect(json({ entityId: 'e', timestamp: 1.5, values: {} })).toMatchObject({ code: 'RECORD_INVALID', field: 'timestamp' });
    expect(json({ entityId: 'e', timestamp: 'yesterday', values: {} })).toMatchObject({ code: 'RECORD_INVALID', field: 'timestamp' });
    expect(json({ entityId: 'e', timestamp: 1, values: { temp: 'hot' } })).toMatchObject({ code: 'RECORD_INVALID', field: 'values.temp' });
    expect(json({ entityId: 'e', timestamp: 1, values: { temp: null } })).toMatchObject({ code: 'RECORD_INVALID', field: 'values.temp' });
    expect(json({ entityId: 'e', timestamp: 1, values: {}, tags: { site: 3 } })).toMatchObject({ code: 'RECORD_INVALID', field: 'tags.site' });
    expect(json([1, 2])).toMatchObject({ code: 'RECORD_INVALID', field: undefined });
  });

  it('RECORD_INVALID for an empty entityId in every format', () => {
    const empty = { ...reading, entityId: '' };
    const bytes = defaultReadingType().toBuffer({ ...empty, tags: null });
    expect(failure(() => decode(bytes, src))).toMatchObject({ code: 'RECORD_INVALID', field: 'entityId' });
    expect(json(empty)).toMatchObject({ code: 'RECORD_INVALID', field: 'entityId' });
  });

  it('RECORD_INVALID at timestamp for a long outside the Date range on the wire', () => {
    // Written field by field with a plain long, as a producer without the logical type could.
    const bytes = Buffer.concat([
      avro.Type.forSchema('string').toBuffer('press-7'),
      avro.Type.forSchema('long').toBuffer(9e15),
      Buffer.from([0, 0]), // empty values map, null tags
    ]);
    expect(failure(() => decode(bytes, src))).toMatchObject({ code: 'RECORD_INVALID', field: 'timestamp' });
  });

  it('NON_FINITE_VALUE with the channel path for NaN and infinities', () => {
    const type = defaultReadingType();
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const bytes = type.toBuffer({ ...reading, values: { temp: 1, pressure: bad }, tags: null });
      expect(failure(() => decode(bytes, src))).toMatchObject({ code: 'NON_FINITE_VALUE', field: 'values.pressure' });
    }
    // JSON has no NaN, but 1e999 parses to Infinity.
    const text = '{"entityId":"e","timestamp":1,"values":{"temp":1e999}}';
    expect(failure(() => decode(Buffer.from(text), source('tel.json')))).toMatchObject({ code: 'NON_FINITE_VALUE', field: 'values.temp' });
  });
});
