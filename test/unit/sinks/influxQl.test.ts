import { describe, expect, it } from 'vitest';
import { QueryValueInvalid } from '../../../src/errors.ts';
import { expandQuery } from '../../../src/sinks/dashboardQueries.ts';
import { quoteIdent, quoteString } from '../../../src/sinks/influxQl.ts';

describe('InfluxQL quoting', () => {
  it('escapes the quote and the backslash, and nothing else', () => {
    expect(quoteString("it's")).toBe("'it\\'s'");
    expect(quoteString('a\\')).toBe("'a\\\\'");
    expect(quoteString("a\\' OR 1=1")).toBe("'a\\\\\\' OR 1=1'");
    expect(quoteString('é "x"')).toBe("'é \"x\"'");
    expect(quoteIdent('a"b\\')).toBe('"a\\"b\\\\"');
  });

  it('refuses control characters and unpaired surrogates with QUERY_VALUE_INVALID', () => {
    for (const v of ['a\nb', 'a\r', '\u0000', 'a\ud800']) {
      expect(() => quoteString(v)).toThrow(QueryValueInvalid);
      expect(() => quoteIdent(v)).toThrow(QueryValueInvalid);
    }
  });

  it('refuses such a dashboard variable value too', () => {
    const opts = { from: 0, to: 1, intervalMs: 1_000, variables: { entity: 'a\nb' } };
    expect(() => expandQuery('SELECT * FROM "scores" WHERE "entity" =~ /^$entity$/', opts)).toThrow(QueryValueInvalid);
  });
});
