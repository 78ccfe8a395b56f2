import avro from 'avsc';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IngestError } from '../../../../src/errors.ts';
import { createReadingDecoder } from '../../../../src/ingest/codec/readingDecoder.ts';
import { textProblem } from '../../../../src/textRules.ts';
import { validateReading } from '../../../../src/ingest/codec/validateReading.ts';
import type { SensorReading } from '../../../../src/types.ts';
import { READING_SCHEMA, source } from './fixtures.ts';

const decoder = createReadingDecoder({
  readerSchemaPath: READING_SCHEMA,
  formats: { 'tel.json': 'json', 'tel.avro': 'avro' },
  defaultFormat: 'confluent',
  schemaIds: { '1': READING_SCHEMA },
  maxMessageBytes: 64 * 1024,
  maxNameLength: 16,
});
const base: SensorReading = { entityId: 'press-7', timestamp: 1_700_000_000_000, values: { temp: 1 } };

/** Every wire format's bytes of `r`, written without the encoder's own checks. */
function everyFormat(r: SensorReading): [string, Buffer][] {
  return [
    ['tel.json', Buffer.from(JSON.stringify(r))],
    ['tel.avro', rawAvro(r)],
    ['tel.confluent', Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), rawAvro(r)])],
  ];
}

// The reading type without the timestamp logical type, so hostile readings skip the encoder's checks.
const type = avro.Type.forSchema(JSON.parse(readFileSync(READING_SCHEMA, 'utf8')), { logicalTypes: {} });
const rawAvro = (r: SensorReading) => type.toBuffer({ ...r, tags: r.tags ?? null });

function rejection(r: SensorReading): { code: string; field: unknown }[] {
  return everyFormat(r).map(([topic, bytes]) => {
    try {
      decoder.decode(bytes, source(topic));
    } catch (e) {
      expect(e).toBeInstanceOf(IngestError);
      return { code: (e as IngestError).code, field: (e as IngestError).coords.field };
    }
    throw new Error(`${topic}: accepted ${JSON.stringify(r)}`);
  });
}

describe('name rules at the door', () => {
  it('dead-letters the entity id a\\nb as RECORD_INVALID on field entityId, in every format', () => {
    expect(rejection({ ...base, entityId: 'a\nb' })).toEqual(Array(3).fill({ code: 'RECORD_INVALID', field: 'entityId' }));
  });

  it.each([
    ['NUL', 'a\u0000'], ['DEL', 'a\u007f'], ['CR', 'a\rb'], ['C1 NEL', 'a\u0085b'], ['line separator', 'a\u2028b'],
    ['paragraph separator', 'a\u2029b'], ['zero-width space', 'a\u200b'], ['BOM', '\ufeffa'], ['bidi override', 'a\u202eb'],
    ['Hangul filler', 'a\u3164'], ['variation selector', 'a\ufe0f'], ['unpaired surrogate', 'a\ud800'],
    ['replacement character', 'a\ufffd'], ['trailing backslash', 'a\\'], ['backslash before a comma', 'a\\,b'], ['backslash before a quote', 'a\\"b'], ['empty', ''], ['too long', 'x'.repeat(17)],
  ])('rejects an entity id with %s', (_what, id) => {
    expect(validateReading({ ...base, entityId: id }, { maxNameLength: 16 })).toMatchObject({ code: 'RECORD_INVALID', field: 'entityId' });
  });

  it('names the channel map or the tag for bad channel names, tag keys and tag values', () => {
    expect(rejection({ ...base, values: { 'a\nb': 1 } })[0]).toEqual({ code: 'RECORD_INVALID', field: 'values' });
    expect(rejection({ ...base, tags: { 'k\u2028': 'v' } })[0]).toEqual({ code: 'RECORD_INVALID', field: 'tags' });
    expect(rejection({ ...base, tags: { site: '' } })[0]).toEqual({ code: 'RECORD_INVALID', field: 'tags.site' });
    expect(rejection({ ...base, tags: { site: 'x\ty' } })[0]).toEqual({ code: 'RECORD_INVALID', field: 'tags.site' });
  });

  it('keeps the names that are only unusual, exactly as sent', () => {
    for (const id of ['a b', 'a,b=c', '"q"', "it's", 'a\\b', 'é', 'e\u0301', '水-7', '💡', 'x'.repeat(16), '\\x']) {
      const r = { ...base, entityId: id, values: { [id]: 2 }, tags: { [id]: id } };
      for (const [topic, bytes] of everyFormat(r)) expect(decoder.decode(bytes, source(topic))).toEqual(r);
    }
  });

  it('counts the length in characters, not UTF-16 units', () => {
    expect(textProblem('💡'.repeat(16), 16)).toBeUndefined();
    expect(textProblem('💡'.repeat(17), 16)).toMatch(/longer than 16/);
  });
});
