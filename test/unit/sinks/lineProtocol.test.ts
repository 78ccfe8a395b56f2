import { describe, expect, it } from 'vitest';
import { PointInvalid, toLineProtocol } from '../../../src/sinks/lineProtocol.ts';

describe('toLineProtocol', () => {
  it('writes sorted, escaped tags, typed fields and an ms timestamp', () => {
    const line = toLineProtocol({
      measurement: 'my scores',
      tags: { z: 'x,=y', entity: 'a b', empty: '' },
      fields: { score: 1.5, n: 3n, ok: true, note: 'say "hi"\\', 'contrib_a b': 0.25 },
      timestamp: 1_700_000_000_123,
    });
    expect(line).toBe('my\\ scores,entity=a\\ b,z=x\\,\\=y score=1.5,n=3i,ok=true,note="say \\"hi\\"\\\\",contrib_a\\ b=0.25 1700000000123');
  });

  it('accepts a Date timestamp and omits a missing one', () => {
    expect(toLineProtocol({ measurement: 'm', fields: { v: 1 }, timestamp: new Date(42) })).toBe('m v=1 42');
    expect(toLineProtocol({ measurement: 'm', fields: { v: 1 } })).toBe('m v=1');
  });

  it('writes an integer-valued float as a float, not an integer', () => {
    // Without the i suffix InfluxDB stores a float, so later 2.5 values do not conflict.
    expect(toLineProtocol({ measurement: 'm', fields: { v: 2 }, timestamp: 1 })).toBe('m v=2 1');
  });

  it('refuses points InfluxDB would reject', () => {
    expect(() => toLineProtocol({ measurement: 'm', fields: { v: Number.NaN } })).toThrow(PointInvalid);
    expect(() => toLineProtocol({ measurement: 'm', fields: { v: Number.POSITIVE_INFINITY } })).toThrow(/not finite/);
    expect(() => toLineProtocol({ measurement: 'm', fields: {} })).toThrow(/no fields/);
    expect(() => toLineProtocol({ measurement: 'm', fields: { v: undefined } })).toThrow(/no fields/);
    expect(() => toLineProtocol({ fields: { v: 1 } })).toThrow(/no measurement/);
    expect(() => toLineProtocol({ measurement: 'm', fields: { v: 1 }, timestamp: 1.5 })).toThrow(/timestamp/);
    expect(() => toLineProtocol({ measurement: 'm', fields: { v: { a: 1 } } })).toThrow(/unsupported type/);
  });
});
