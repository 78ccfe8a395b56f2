/**
 * A line-protocol reader for tests, after InfluxDB 1.x's grammar (models/points.go):
 *
 *   line        = measurement ("," tagKey "=" tagValue)* " " fieldKey "=" fieldValue ("," ...)* [" " timestamp]
 *   measurement : `\,` and `\ ` are escapes; any other `\` is literal
 *   tag/field key, tag value : `\,`, `\=` and `\ ` are escapes (a field key also `\"`)
 *   field value : float | integer `i` | true/false | `"` string with `\"` and `\\` escapes `"`
 *
 * It reads one line, and refuses a newline anywhere: a point must be exactly one line.
 */
export interface ParsedPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | bigint | boolean | string>;
  timestamp?: number;
}

class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  peek(): string | undefined {
    return this.s[this.i];
  }
  fail(why: string): never {
    throw new Error(`line protocol: ${why} at ${this.i} in ${JSON.stringify(this.s)}`);
  }
}

/** Reads an escaped token up to an unescaped stop character. */
function token(c: Cursor, stops: string, escapable: string): string {
  let out = '';
  while (c.i < c.s.length && !stops.includes(c.s[c.i])) {
    const ch = c.s[c.i];
    if (ch === '\\' && c.i + 1 < c.s.length && escapable.includes(c.s[c.i + 1])) {
      out += c.s[c.i + 1];
      c.i += 2;
    } else {
      out += ch;
      c.i++;
    }
  }
  if (out === '') c.fail('empty token');
  return out;
}

function expect(c: Cursor, ch: string): void {
  if (c.s[c.i] !== ch) c.fail(`expected ${JSON.stringify(ch)}`);
  c.i++;
}

function stringValue(c: Cursor): string {
  expect(c, '"');
  let out = '';
  for (;;) {
    const ch = c.s[c.i];
    if (ch === undefined) c.fail('unterminated string');
    if (ch === '"') break;
    if (ch === '\\' && (c.s[c.i + 1] === '"' || c.s[c.i + 1] === '\\')) {
      out += c.s[c.i + 1];
      c.i += 2;
    } else {
      out += ch;
      c.i++;
    }
  }
  c.i++;
  return out;
}

function fieldValue(c: Cursor): number | bigint | boolean | string {
  if (c.peek() === '"') return stringValue(c);
  const start = c.i;
  while (c.i < c.s.length && c.s[c.i] !== ',' && c.s[c.i] !== ' ') c.i++;
  const raw = c.s.slice(start, c.i);
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^-?\d+i$/.test(raw)) return BigInt(raw.slice(0, -1));
  if (/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw)) return Number(raw);
  return c.fail(`bad field value ${JSON.stringify(raw)}`);
}

/** Assigns an own property even for keys such as `__proto__`, which plain assignment would not. */
function setOwn<T>(o: Record<string, T>, k: string, v: T): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

export function parseLine(line: string): ParsedPoint {
  if (/[\n\r]/.test(line)) throw new Error(`line protocol: a point spans more than one line: ${JSON.stringify(line)}`);
  const c = new Cursor(line);
  const measurement = token(c, ', ', ', ');
  const tags: Record<string, string> = {};
  while (c.peek() === ',') {
    c.i++;
    const k = token(c, '=', ',= ');
    expect(c, '=');
    const v = token(c, ', ', ',= ');
    // Own keys only: a tag named like an Object.prototype member (valueOf) is an ordinary tag.
    if (Object.hasOwn(tags, k)) c.fail(`duplicate tag ${k}`);
    setOwn(tags, k, v);
  }
  expect(c, ' ');
  const fields: ParsedPoint['fields'] = {};
  for (;;) {
    const k = token(c, '=', ',= "');
    expect(c, '=');
    setOwn(fields, k, fieldValue(c));
    if (c.peek() !== ',') break;
    c.i++;
  }
  let timestamp: number | undefined;
  if (c.peek() === ' ') {
    c.i++;
    const raw = c.s.slice(c.i);
    if (!/^-?\d+$/.test(raw)) c.fail('bad timestamp');
    timestamp = Number(raw);
    c.i = c.s.length;
  }
  if (c.i !== c.s.length) c.fail('trailing text');
  return { measurement, tags, fields, timestamp };
}
