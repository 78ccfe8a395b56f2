import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { parseSchema } from '../../../../src/ingest/codec/loadSchema.ts';
import { MAX_TIMESTAMP_MS, parseIsoMillis, TimestampMillisType, TimestampRangeError } from '../../../../src/ingest/codec/timestampMillis.ts';

const tsType = parseSchema({ type: 'long', logicalType: 'timestamp-millis' });
const plainLong = avro.Type.forSchema('long');

describe('TimestampMillisType', () => {
  it('is registered by parseSchema (without it the field would silently stay a long)', () => {
    expect(tsType).toBeInstanceOf(TimestampMillisType);
    expect(tsType.typeName).toBe('logical:timestamp-millis');
    expect(avro.Type.forSchema({ type: 'long', logicalType: 'timestamp-millis' })).not.toBeInstanceOf(TimestampMillisType);
  });

  it('writes epoch ms as the same zig-zag long a plain long writes, from a number or a Date', () => {
    const ms = 1_700_000_000_123;
    const expected = plainLong.toBuffer(ms);
    expect(tsType.toBuffer(ms).equals(expected)).toBe(true);
    expect(tsType.toBuffer(new Date(ms)).equals(expected)).toBe(true);
    expect(tsType.toBuffer(-1).toString('hex')).toBe('01');
  });

  it('reads a long back as an epoch ms number, not a Date', () => {
    const decoded = tsType.fromBuffer(plainLong.toBuffer(1_700_000_000_123));
    expect(decoded).toBe(1_700_000_000_123);
    expect(tsType.fromBuffer(tsType.toBuffer(new Date(0)))).toBe(0);
  });

  it('rejects invalid dates on write with a clear error, and isValid reports them', () => {
    for (const bad of [new Date('nope'), Number.NaN, 1.5, MAX_TIMESTAMP_MS + 1, '2023-11-14T22:13:20Z', null]) {
      expect(() => tsType.toBuffer(bad)).toThrow(TimestampRangeError);
      expect(tsType.isValid(bad)).toBe(false);
    }
    expect(() => tsType.toBuffer(new Date('nope'))).toThrow(/timestamp-millis: Invalid Date is not a valid date/);
    expect(tsType.isValid(MAX_TIMESTAMP_MS)).toBe(true);
    expect(tsType.isValid(-MAX_TIMESTAMP_MS)).toBe(true);
  });

  it('rejects a long outside the Date range on read', () => {
    const bytes = plainLong.toBuffer(MAX_TIMESTAMP_MS + 1);
    expect(() => tsType.fromBuffer(bytes)).toThrow(TimestampRangeError);
  });

  it('resolves plain long and int writers, and refuses a string writer', () => {
    expect(tsType.fromBuffer(plainLong.toBuffer(123), tsType.createResolver(plainLong))).toBe(123);
    const int = avro.Type.forSchema('int');
    expect(tsType.fromBuffer(int.toBuffer(-5), tsType.createResolver(int))).toBe(-5);
    expect(tsType.fromBuffer(tsType.toBuffer(77), tsType.createResolver(parseSchema({ type: 'long', logicalType: 'timestamp-millis' })))).toBe(77);
    expect(() => tsType.createResolver(avro.Type.forSchema('string'))).toThrow(/cannot read/);
  });
});

describe('parseIsoMillis', () => {
  it('parses ISO-8601 date-times with a zone', () => {
    expect(parseIsoMillis('2023-11-14T22:13:20.000Z')).toBe(1_700_000_000_000);
    expect(parseIsoMillis('2023-11-14T22:13:20Z')).toBe(1_700_000_000_000);
    expect(parseIsoMillis('2023-11-15T00:13:20.5+02:00')).toBe(1_700_000_000_500);
    expect(parseIsoMillis('2023-11-14T22:13Z')).toBe(1_699_999_980_000);
    expect(parseIsoMillis('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
  });

  it('rejects what Date.parse would accept or roll over', () => {
    for (const bad of ['2023-11-14T22:13:20', '2023-11-14', 'Nov 14 2023', '2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z',
      '2023-13-01T00:00:00Z', '2023-11-14T24:00:00Z', '2023-11-14T22:60:00Z', '2023-11-14T22:13:20+24:00', '', '1700000000000']) {
      expect(parseIsoMillis(bad), bad).toBeUndefined();
    }
  });
});
