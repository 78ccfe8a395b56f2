/**
 * InfluxQL quoting for values that come from data (entity ids, channel names, versions).
 *
 * InfluxQL (influxql/scanner.go) reads a double-quoted identifier and a single-quoted string
 * literal with the same escapes: `\\`, `\"`, `\'` and `\n`; any other escape or a raw newline
 * is a parse error. So `\` and the quote are escaped, and a control character or an unpaired
 * surrogate is refused with `QueryValueInvalid` (code QUERY_VALUE_INVALID) rather than
 * silently turned into another value. A regex literal takes Grafana's escaping
 * (dashboardQueries.ts `escapeRegex`), behind the same refusal.
 *
 * node-influx's `escape.stringLit` escapes only `'`, so `a\` closed the literal early; its
 * `escape.quoted` also rewrites the first `\'`. Neither is used for data.
 *
 * @example
 * `SELECT * FROM ${quoteIdent('scores')} WHERE ${quoteIdent('entity')} = ${quoteString("it's")}`
 * // SELECT * FROM "scores" WHERE "entity" = 'it\'s'
 */
import { QueryValueInvalid } from '../errors.ts';
import { printable } from '../textRules.ts';

const UNQUOTABLE = /[\p{Cc}\p{Cs}]/u;

/** Throws `QueryValueInvalid` when `value` holds a character InfluxQL cannot carry in quotes. */
export function checkQueryValue(value: string, what: string): string {
  const bad = UNQUOTABLE.exec(value);
  if (bad) {
    const cp = `U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    throw new QueryValueInvalid(`${what} "${printable(value)}" contains ${cp}, which an InfluxQL query cannot carry`, { value: printable(value), what });
  }
  return value;
}

/** A double-quoted identifier (measurement, tag or field key). */
export function quoteIdent(name: string): string {
  return `"${checkQueryValue(name, 'identifier').replace(/["\\]/g, '\\$&')}"`;
}

/** A single-quoted string literal (a tag value in a WHERE clause). */
export function quoteString(value: string): string {
  return `'${checkQueryValue(value, 'string literal').replace(/['\\]/g, '\\$&')}'`;
}
