/**
 * InfluxDB 1.x line protocol for one point, with the escaping of the 1.x parser.
 *
 * Field types follow the JavaScript value: `number` → float, `bigint` → integer (`42i`),
 * `boolean` → bool, `string` → string. node-influx can only write integers through a strict
 * per-measurement schema, which would reject the dynamic `contrib_<channel>` fields, so the
 * integer case is spelled with `bigint` instead.
 * Timestamps are epoch milliseconds: the writer always sends `precision=ms`.
 * https://docs.influxdata.com/influxdb/v1.6/write_protocols/line_protocol_reference/
 *
 * Escaping (influxdb 1.x models/points.go): a measurement escapes `,` and space; tag keys, tag
 * values and field keys escape `,`, `=` and space; a string field value escapes `"` and `\`.
 * Some text cannot be written at all, and such a point is refused with `PointInvalid`
 * (code POINT_INVALID) rather than escaped into something else:
 * - a control character anywhere (a newline ends the line: `entity=a\nb ...` would write a
 *   point into a measurement `b`);
 * - an unpaired surrogate (UTF-8 turns it into U+FFFD, so two names would become one series);
 * - a name with a backslash before `,`, `=`, a space, `"` or its end (the parser reads it as an
 *   escape, and there is no way to write it literally);
 * - an empty key, a non-finite number, a non-integer timestamp.
 *
 * @example
 * toLineProtocol({ measurement: 'scores', tags: { entity: 'a b' }, fields: { score: 1.5, n: 3n }, timestamp: 1000 })
 * // 'scores,entity=a\\ b score=1.5,n=3i 1000'
 */
import type { IPoint } from 'influx';
import { PointInvalid } from '../errors.ts';
import { BACKSLASH_ESCAPE, printable } from '../textRules.ts';

export { PointInvalid };

const UNWRITABLE = /[\p{Cc}\p{Cs}]/u;

type Part = 'measurement' | 'tag key' | 'tag value' | 'field key' | 'field value';

interface Where {
  measurement: string;
  entity?: string;
  timestamp?: IPoint['timestamp'];
}

function refuse(where: Where, part: Part, key: string | undefined, why: string): PointInvalid {
  const m = printable(where.measurement);
  const coords = {
    measurement: m, part, ...(key !== undefined ? { pointKey: printable(key) } : {}),
    ...(where.entity !== undefined ? { entityId: printable(where.entity) } : {}),
    ...(where.timestamp !== undefined ? { timestamp: String(where.timestamp) } : {}),
  };
  return new PointInvalid(`point in ${m}${key !== undefined ? `, ${part} ${printable(key)}` : ''}: ${part} ${why}`, coords);
}

/** Why `text` cannot be written in a line, or undefined. `name`: a key or tag value, which cannot end in `\`. */
function unwritable(text: string, name: boolean): string | undefined {
  const bad = UNWRITABLE.exec(text);
  if (bad) return `contains U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}, which line protocol cannot carry`;
  if (name && BACKSLASH_ESCAPE.test(text)) return 'has a backslash before a comma, "=", a space, a double quote or its end, which line protocol cannot carry';
  return undefined;
}

/**
 * Escaped names by their set of specials. Field keys, tag keys and most tag values repeat on
 * every point, and checking and escaping one costs three regular-expression passes. Only
 * writable names are kept; the cache starts again when full.
 */
const escaped = new Map<RegExp, Map<string, string>>();
const ESCAPED_MAX = 65_536;

function name(text: string, part: Part, key: string | undefined, where: Where, specials: RegExp): string {
  let known = escaped.get(specials);
  if (!known) escaped.set(specials, (known = new Map()));
  const hit = known.get(text);
  if (hit !== undefined) return hit;
  if (text.length === 0) throw refuse(where, part, key, 'is empty');
  const why = unwritable(text, true);
  if (why) throw refuse(where, part, key, why);
  const out = text.replace(specials, '\\$&');
  if (known.size >= ESCAPED_MAX) known.clear();
  known.set(text, out);
  return out;
}

const MEASUREMENT_SPECIALS = /[, ]/g;
const KEY_SPECIALS = /[,= ]/g;

function fieldValue(key: string, value: unknown, where: Where): string {
  switch (typeof value) {
    case 'number':
      // Line protocol has no NaN or Infinity; InfluxDB rejects the whole line.
      if (!Number.isFinite(value)) throw refuse(where, 'field value', key, `is not finite: ${value}`);
      return String(value);
    case 'bigint':
      return `${value}i`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string': {
      const why = unwritable(value, false);
      if (why) throw refuse(where, 'field value', key, why);
      return `"${value.replace(/["\\]/g, '\\$&')}"`;
    }
    default:
      throw refuse(where, 'field value', key, `has unsupported type ${typeof value}`);
  }
}

function timestampMs(ts: IPoint['timestamp'], where: Where): string {
  if (ts === undefined) return '';
  const ms = ts instanceof Date ? ts.getTime() : Number(ts);
  if (!Number.isSafeInteger(ms)) throw new PointInvalid(`point in ${printable(where.measurement)}: timestamp must be integer epoch ms, got ${String(ts)}`, { measurement: printable(where.measurement), part: 'timestamp' });
  return ` ${ms}`;
}

/** One line of line protocol. Throws `PointInvalid` for a point InfluxDB would reject or misread. */
export function toLineProtocol(point: IPoint): string {
  if (!point.measurement) throw new PointInvalid('point has no measurement', { part: 'measurement' });
  const tags = point.tags ?? {};
  const where: Where = { measurement: point.measurement, entity: tags.entity, timestamp: point.timestamp };
  let line = name(point.measurement, 'measurement', undefined, where, MEASUREMENT_SPECIALS);
  // Sorted tag keys are what InfluxDB stores; sending them sorted saves it the work.
  for (const key of Object.keys(tags).sort()) {
    // An empty tag value is a parse error; an absent tag means the same thing.
    if (tags[key] === '' || tags[key] === undefined) continue;
    line += `,${name(key, 'tag key', key, where, KEY_SPECIALS)}=${name(String(tags[key]), 'tag value', key, where, KEY_SPECIALS)}`;
  }
  const fields = Object.entries(point.fields ?? {}).filter(([, v]) => v !== undefined && v !== null);
  if (fields.length === 0) throw refuse(where, 'field key', undefined, 'none: the point has no fields');
  line += ' ' + fields.map(([k, v]) => `${name(k, 'field key', k, where, KEY_SPECIALS)}=${fieldValue(k, v, where)}`).join(',');
  return line + timestampMs(point.timestamp, where);
}
