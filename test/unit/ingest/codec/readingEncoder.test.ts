import { describe, expect, it } from 'vitest';
import { DiffwatchError } from '../../../../src/errors.ts';
import { unframeConfluent } from '../../../../src/ingest/codec/confluentWire.ts';
import { defaultReadingType, encodeReading } from '../../../../src/ingest/codec/readingEncoder.ts';
import type { SensorReading } from '../../../../src/types.ts';

const reading: SensorReading = { entityId: 'm1', timestamp: 1_700_000_000_000, values: { temp: 20.25 } };

function encodeError(r: SensorReading): { code: string; field: unknown } {
  try {
    encodeReading(r, 'avro');
  } catch (err) {
    expect(err).toBeInstanceOf(DiffwatchError);
    const e = err as DiffwatchError;
    return { code: e.code, field: e.coords.field };
  }
  throw new Error('expected encodeReading to throw');
}

describe('encodeReading', () => {
  it('writes plain Avro that the reading type reads back, with a null tags branch', () => {
    const bytes = encodeReading(reading, 'avro');
    expect(defaultReadingType().fromBuffer(bytes)).toMatchObject({ ...reading, tags: null });
    expect(bytes[bytes.length - 1]).toBe(0); // union branch 0 = null
  });

  it('frames Confluent bytes with the schema id, and needs one', () => {
    const frame = unframeConfluent(encodeReading(reading, 'confluent', { schemaId: 258 }));
    expect(frame).toMatchObject({ ok: true, schemaId: 258 });
    expect(frame.ok && frame.payload.equals(encodeReading(reading, 'avro'))).toBe(true);
    expect(() => encodeReading(reading, 'confluent')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('writes JSON with an epoch ms or ISO timestamp, omitting absent tags', () => {
    expect(JSON.parse(encodeReading(reading, 'json').toString())).toEqual(reading);
    expect(JSON.parse(encodeReading(reading, 'json', { jsonTimestamp: 'iso' }).toString())).toEqual({
      ...reading,
      timestamp: '2023-11-14T22:13:20.000Z',
    });
  });

  it('refuses what the decoder would dead-letter, with the field path', () => {
    expect(encodeError({ ...reading, entityId: '' })).toEqual({ code: 'RECORD_INVALID', field: 'entityId' });
    expect(encodeError({ ...reading, timestamp: Number.NaN })).toEqual({ code: 'RECORD_INVALID', field: 'timestamp' });
    expect(encodeError({ ...reading, values: { a: 1, b: Number.NaN } })).toEqual({ code: 'NON_FINITE_VALUE', field: 'values.b' });
    expect(encodeError({ ...reading, values: { a: '1' as unknown as number } })).toEqual({ code: 'RECORD_INVALID', field: 'values.a' });
  });
});
