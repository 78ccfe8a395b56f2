import { describe, expect, it } from 'vitest';
import { PointInvalid, toLineProtocol } from '../../../src/sinks/lineProtocol.ts';
import { parseLine } from '../../fuzz/support/parseLine.ts';

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

describe('toLineProtocol: names that would break a line', () => {
  const point = (entity: string, channel = 'temp', note = 'ok') => ({
    measurement: 'scores', tags: { entity }, fields: { [`contrib_${channel}`]: 0.5, note }, timestamp: 1_000,
  });
  const refusal = (fn: () => unknown): PointInvalid => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(PointInvalid);
      return e as PointInvalid;
    }
    throw new Error('expected PointInvalid');
  };

  it('refuses a newline in a tag value instead of writing a second line into another measurement', () => {
    const e = refusal(() => toLineProtocol(point('a\nb')));
    expect(e.code).toBe('POINT_INVALID');
    expect(e.coords).toMatchObject({ measurement: 'scores', part: 'tag value', pointKey: 'entity', entityId: 'a\\u{a}b', timestamp: '1000' });
    expect(e.message).not.toContain('\n');
  });

  it.each([
    ['tag value with CR', point('a\rb'), 'tag value'],
    ['tag value with NUL', point('a\u0000'), 'tag value'],
    ['tag value ending in a backslash', point('a\\'), 'tag value'],
    ['tag value with an unpaired surrogate', point('a\ud800'), 'tag value'],
    ['field key with a newline', point('a', 'x\ny'), 'field key'],
    ['field key with a backslash before a quote', point('a', 'x\\"y'), 'field key'],
    ['field key with a backslash before "="', point('a', 'x\\=y'), 'field key'],
    ['string field with a newline', point('a', 'x', 'two\nlines'), 'field value'],
    ['tag key with a tab', { measurement: 'm', tags: { 'k\t': 'v' }, fields: { v: 1 } }, 'tag key'],
    ['measurement with a newline', { measurement: 'm\nx', fields: { v: 1 } }, 'measurement'],
  ])('refuses a %s', (_what, p, part) => {
    expect(refusal(() => toLineProtocol(p)).coords.part).toBe(part);
  });

  it('writes the names it accepts so that they read back exactly', () => {
    for (const id of ['a b', 'a,b=c', '"q"', "it's", 'a\\b', '\\x', 'a\\\\b', '#x', 'é', '💡', 'a\u2028b']) {
      const line = toLineProtocol(point(id, id, `${id}\\`));
      expect(parseLine(line)).toEqual({ measurement: 'scores', tags: { entity: id }, fields: { [`contrib_${id}`]: 0.5, note: `${id}\\` }, timestamp: 1_000 });
    }
  });

  it('escapes a name by the rules of where it stands, however often it was written before', () => {
    // Names are remembered once escaped: the same text as a measurement keeps its '=', as a key escapes it.
    for (let i = 0; i < 3; i++) {
      expect(toLineProtocol({ measurement: 'a=b c', tags: { 'a=b c': 'a=b c' }, fields: { 'a=b c': 1 } })).toBe('a=b\\ c,a\\=b\\ c=a\\=b\\ c a\\=b\\ c=1');
      expect(() => toLineProtocol({ measurement: 'm', tags: { entity: 'a\nb' }, fields: { v: 1 } })).toThrow(PointInvalid);
    }
  });
});
