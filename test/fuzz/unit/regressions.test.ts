/** Counterexamples the fuzz suite (and the line-protocol probe against InfluxDB 1.6.7) found, fixed as tests. */
import { describe, expect, it } from 'vitest';
import { IngestError } from '../../../src/errors.ts';
import { createReadingDecoder } from '../../../src/ingest/codec/readingDecoder.ts';
import { PointInvalid, toLineProtocol } from '../../../src/sinks/lineProtocol.ts';
import { textProblem } from '../../../src/textRules.ts';

const SCHEMA = 'schemas/sensor-reading.avsc';
const decoder = createReadingDecoder({ readerSchemaPath: SCHEMA, formats: { j: 'json', a: 'avro' }, defaultFormat: 'confluent', schemaIds: { '7': SCHEMA }, maxMessageBytes: 1 << 20 });
const decodeError = (topic: string, bytes: Buffer) => {
  try {
    decoder.decode(bytes, { topic, partition: 0, offset: '0' });
  } catch (e) {
    return e as IngestError;
  }
  throw new Error('accepted');
};

describe('fuzz regressions', () => {
  it('a\\nb as an entity id is dead-lettered (RECORD_INVALID, entityId), not written as a measurement b', () => {
    const e = decodeError('j', Buffer.from(JSON.stringify({ entityId: 'a\nb', timestamp: 1, values: { v: 1 } })));
    expect([e.code, e.coords.field]).toEqual(['RECORD_INVALID', 'entityId']);
    expect(() => toLineProtocol({ measurement: 'scores', tags: { entity: 'a\nb' }, fields: { score: 1 } })).toThrow(PointInvalid);
  });

  it('10 Avro bytes claiming a map of ~10^9 entries fail at once instead of holding the event loop for 84 s', () => {
    for (const [topic, hex] of [['a', '06b6fb0c3bdfe8c29f03'], ['c', '0000000007' + '06b6fb0c3bdfe8c29f03']]) {
      const started = performance.now();
      expect(decodeError(topic, Buffer.from(hex, 'hex')).code).toBe('DECODE_FAILED');
      expect(performance.now() - started).toBeLessThan(100);
    }
  });

  it('a backslash before a comma, "=", space or quote in a field key cannot be written: refused at the door and in the writer', () => {
    // InfluxDB 1.6.7 answered "invalid field format" for contrib_a\,b and dropped contrib_a\"b.
    for (const name of ['a\\,b', 'a\\"b', 'a\\ b', 'a\\=b', 'a\\']) {
      expect(textProblem(name, 256)).toMatch(/backslash/);
      expect(() => toLineProtocol({ measurement: 'scores', fields: { [`contrib_${name}`]: 1 } })).toThrow(PointInvalid);
    }
  });

  it('-0 in a JSON reading or a float field reads back as 0, the same value to every query', () => {
    expect(decoder.decode(Buffer.from('{"entityId":"e","timestamp":0,"values":{"a":-0}}'), { topic: 'j', partition: 0, offset: '0' }).values.a).toBe(-0);
    expect(toLineProtocol({ measurement: 'm', fields: { v: -0 }, timestamp: 1 })).toBe('m v=0 1');
  });
});
