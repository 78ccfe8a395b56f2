/**
 * InfluxDB 1.x line protocol for one point, with node-influx's escaping.
 *
 * Field types follow the JavaScript value: `number` → float, `bigint` → integer (`42i`),
 * `boolean` → bool, `string` → string. node-influx can only write integers through a strict
 * per-measurement schema, which would reject the dynamic `contrib_<channel>` fields, so the
 * integer case is spelled with `bigint` instead.
 * Timestamps are epoch milliseconds: the writer always sends `precision=ms`.
 * https://docs.influxdata.com/influxdb/v1.6/write_protocols/line_protocol_reference/
 *
 * @example
 * toLineProtocol({ measurement: 'scores', tags: { entity: 'a b' }, fields: { score: 1.5, n: 3n }, timestamp: 1000 })
 * // 'scores,entity=a\\ b score=1.5,n=3i 1000'
 */
import { escape, type IPoint } from 'influx';

/** A point that cannot be written, found before it reaches the server (the server would answer 400). */
export class PointInvalid extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PointInvalid';
  }
}

function fieldValue(key: string, value: unknown): string {
  switch (typeof value) {
    case 'number':
      // Line protocol has no NaN or Infinity; InfluxDB rejects the whole line.
      if (!Number.isFinite(value)) throw new PointInvalid(`field ${key} is not finite: ${value}`);
      return String(value);
    case 'bigint':
      return `${value}i`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return escape.quoted(value);
    default:
      throw new PointInvalid(`field ${key} has unsupported type ${typeof value}`);
  }
}

function timestampMs(ts: IPoint['timestamp']): string {
  if (ts === undefined) return '';
  const ms = ts instanceof Date ? ts.getTime() : Number(ts);
  if (!Number.isSafeInteger(ms)) throw new PointInvalid(`timestamp must be integer epoch ms, got ${String(ts)}`);
  return ` ${ms}`;
}

/** One line of line protocol. Throws `PointInvalid` for a point InfluxDB would reject. */
export function toLineProtocol(point: IPoint): string {
  if (!point.measurement) throw new PointInvalid('point has no measurement');
  let line = escape.measurement(point.measurement);
  // Sorted tag keys are what InfluxDB stores; sending them sorted saves it the work.
  const tags = point.tags ?? {};
  for (const key of Object.keys(tags).sort()) {
    // An empty tag value is a parse error; an absent tag means the same thing.
    if (tags[key] === '' || tags[key] === undefined) continue;
    line += `,${escape.tag(key)}=${escape.tag(String(tags[key]))}`;
  }
  const fields = Object.entries(point.fields ?? {}).filter(([, v]) => v !== undefined && v !== null);
  if (fields.length === 0) throw new PointInvalid(`point in ${point.measurement} has no fields`);
  line += ' ' + fields.map(([k, v]) => `${escape.tag(k)}=${fieldValue(k, v)}`).join(',');
  return line + timestampMs(point.timestamp);
}
