/**
 * The InfluxQL queries of the Grafana dashboard (grafana/dashboards/diffwatch-overview.json),
 * extracted and expanded into what Grafana sends to InfluxDB, so tests can run every panel.
 *
 * Expansion follows Grafana 10/11 with a raw InfluxQL target:
 * - `$timeFilter` becomes `time >= <from>ms and time <= <to>ms` (the backend's renderTimeFilter);
 * - `$__interval` becomes the interval floored to its largest unit (`10s`, `1m`, `250ms`), as
 *   Grafana's FormatInterval does, and `$__interval_ms` the interval in ms;
 * - a dashboard variable (`$entity`, `${entity}`) is formatted as a regex: each value escaped
 *   with Grafana's escapeRegex, several values joined as `(a|b)`. Grafana applies that format to
 *   raw queries everywhere, so a variable is only correct inside a regex literal
 *   (`"entity" =~ /^$entity$/`); anywhere else it is refused here rather than mis-expanded.
 * Anything else that looks like a macro fails loudly (DASHBOARD_MACRO_UNKNOWN).
 *
 * @example
 * const queries = dashboardQueries(readDashboard());
 * const q = expandQuery(queries[0].query, { from, to, intervalMs: 10_000, variables: { entity: 'pump-a', model_version: ['baseline@1'] } });
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DiffwatchError } from '../errors.ts';
import { checkQueryValue } from './influxQl.ts';

/** The dashboard file shipped in the repository. */
export const DASHBOARD_FILE = fileURLToPath(new URL('../../grafana/dashboards/diffwatch-overview.json', import.meta.url));

export type DashboardErrorCode = 'DASHBOARD_INVALID' | 'DASHBOARD_MACRO_UNKNOWN';

/** A dashboard that cannot be read as raw InfluxQL, or a query with a macro that cannot be expanded. */
export class DashboardError extends DiffwatchError {
  constructor(code: DashboardErrorCode, message: string, coords: { path?: string; macro?: string } = {}) {
    super(code, message, { coords });
  }
}

/** Where a query sits in the dashboard. */
export type QuerySite = 'panel' | 'variable' | 'annotation';

export interface DashboardQuery {
  site: QuerySite;
  /** JSON path of the query's owner, e.g. `panels[2].targets[0]`, for error messages. */
  path: string;
  /** Panel id (panel targets only). */
  panelId?: number;
  /** Panel title, variable name or annotation name. */
  title: string;
  /** Target refId; the variable or annotation name otherwise. */
  refId: string;
  /** `time_series` or `table` (panel targets only). */
  resultFormat?: string;
  /** The raw InfluxQL as stored in the dashboard, macros unexpanded. */
  query: string;
}

export interface ExpandOptions {
  /** Time range, epoch ms, inclusive at both ends. */
  from: number;
  to: number;
  /** Grafana's computed `$__interval`, ms. */
  intervalMs: number;
  /** Selected values of the dashboard variables; an array is a multi-value (or "All") selection. */
  variables: Readonly<Record<string, string | readonly string[]>>;
}

/** Reads and parses the dashboard JSON (the shipped one by default). */
export function readDashboard(file: string = DASHBOARD_FILE): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new DashboardError('DASHBOARD_INVALID', `cannot read dashboard ${file}: ${(cause as Error).message}`, { path: file });
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function rawQuery(owner: Json, path: string, needRawFlag: boolean): string {
  // Grafana's query editor stores a builder query as select/tags parts; only raw text can be tested as is.
  if (needRawFlag && owner.rawQuery !== true) throw new DashboardError('DASHBOARD_INVALID', `${path}: rawQuery must be true`, { path });
  const q = isObject(owner.query) ? owner.query.query : owner.query;
  if (typeof q !== 'string' || q.trim() === '') throw new DashboardError('DASHBOARD_INVALID', `${path}: no InfluxQL query`, { path });
  return q;
}

function panelQueries(panels: unknown, prefix: string): DashboardQuery[] {
  return list(panels).flatMap((p, i) => {
    const path = `${prefix}[${i}]`;
    if (!isObject(p)) throw new DashboardError('DASHBOARD_INVALID', `${path}: not an object`, { path });
    const nested = panelQueries(p.panels, `${path}.panels`); // collapsed rows keep their panels inside
    const title = String(p.title ?? '');
    const own = list(p.targets).map((t, j): DashboardQuery => {
      const tPath = `${path}.targets[${j}]`;
      if (!isObject(t)) throw new DashboardError('DASHBOARD_INVALID', `${tPath}: not an object`, { path: tPath });
      return {
        site: 'panel', path: tPath, panelId: Number(p.id), title, refId: String(t.refId ?? ''),
        resultFormat: typeof t.resultFormat === 'string' ? t.resultFormat : undefined, query: rawQuery(t, tPath, true),
      };
    });
    return [...own, ...nested];
  });
}

/** Every InfluxQL query of the dashboard: panel targets (rows included), query variables, annotations. */
export function dashboardQueries(dashboard: unknown): DashboardQuery[] {
  if (!isObject(dashboard)) throw new DashboardError('DASHBOARD_INVALID', 'dashboard is not a JSON object');
  const variables = list(isObject(dashboard.templating) ? dashboard.templating.list : undefined)
    .map((v, i) => ({ v, path: `templating.list[${i}]` }))
    .filter(({ v }) => isObject(v) && v.type === 'query')
    .map(({ v, path }): DashboardQuery => {
      const name = String((v as Json).name);
      return { site: 'variable', path, title: name, refId: name, query: rawQuery(v as Json, path, false) };
    });
  const annotations = list(isObject(dashboard.annotations) ? dashboard.annotations.list : undefined)
    .map((a, i) => ({ a, path: `annotations.list[${i}]` }))
    .filter(({ a }) => isObject(a) && typeof a.query === 'string') // Grafana's built-in annotation has no query
    .map(({ a, path }): DashboardQuery => {
      const name = String((a as Json).name);
      return { site: 'annotation', path, title: name, refId: name, query: rawQuery(a as Json, path, false) };
    });
  return [...panelQueries(dashboard.panels, 'panels'), ...variables, ...annotations];
}

/** Grafana's escapeRegex (@grafana/data, text/string.ts). */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

/** Grafana's FormatInterval: the interval floored to its largest unit. */
export function formatInterval(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new DashboardError('DASHBOARD_MACRO_UNKNOWN', `$__interval must be a positive whole number of ms, got ${ms}`, { macro: '$__interval' });
  // Grafana would print years (`1y`), which InfluxQL has no unit for.
  if (ms >= 365 * 86_400_000) throw new DashboardError('DASHBOARD_MACRO_UNKNOWN', `$__interval of ${ms} ms is a year or more: InfluxQL has no year unit`, { macro: '$__interval' });
  const units: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1_000, 's']];
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return `${ms}ms`;
}

function regexFormat(name: string, value: string | readonly string[]): string {
  const values = typeof value === 'string' ? [value] : value;
  if (values.length === 0) throw new DashboardError('DASHBOARD_MACRO_UNKNOWN', `variable $${name} has no value selected`, { macro: `$${name}` });
  // A value from data (an entity id) with a control character cannot be put into a query.
  const escaped = values.map((v) => escapeRegex(checkQueryValue(v, `variable $${name}`)));
  return escaped.length === 1 ? escaped[0] : `(${escaped.join('|')})`;
}

/** Spans [start, end) of the regex literals that follow `=~` or `!~`. */
function regexSpans(query: string): [number, number][] {
  return [...query.matchAll(/[=!]~\s*(\/(?:[^/\\\n]|\\.)*\/)/g)].map((m) => {
    const start = m.index + m[0].length - m[1].length;
    return [start, start + m[1].length];
  });
}

// `$name`, `${name}` or `${name:format}`, and the deprecated `[[name]]`.
const MACRO = /\$\{([^}]*)\}|\$(\w+)|\[\[([^\]]*)\]\]/g;

/** Expands the macros and variables of one dashboard query into runnable InfluxQL. */
export function expandQuery(query: string, opts: ExpandOptions): string {
  for (const [key, t] of [['from', opts.from], ['to', opts.to]] as const) {
    if (!Number.isInteger(t)) throw new DashboardError('DASHBOARD_MACRO_UNKNOWN', `$timeFilter needs whole epoch ms, got ${key}=${t}`, { macro: '$timeFilter' });
  }
  const spans = regexSpans(query);
  const inRegex = (at: number) => spans.some(([s, e]) => at > s && at < e);
  return query.replace(MACRO, (text: string, braced: string | undefined, plain: string | undefined, bracketed: string | undefined, at: number) => {
    if (bracketed !== undefined || braced?.includes(':')) {
      throw new DashboardError('DASHBOARD_MACRO_UNKNOWN', `unsupported variable form ${text}: write $name inside a regex`, { macro: text });
    }
    const name = (braced ?? plain) as string;
    if (name === 'timeFilter' && !inRegex(at)) return `time >= ${opts.from}ms and time <= ${opts.to}ms`;
    if (name === '__interval' && !inRegex(at)) return formatInterval(opts.intervalMs);
    if (name === '__interval_ms' && !inRegex(at)) return formatInterval(opts.intervalMs) && String(opts.intervalMs); // validates it too
    const value = Object.hasOwn(opts.variables, name) ? opts.variables[name] : undefined;
    if (value === undefined) throw new DashboardError('DASHBOARD_MACRO_UNKNOWN', `unknown macro or variable ${text}`, { macro: text });
    if (!inRegex(at)) {
      throw new DashboardError('DASHBOARD_MACRO_UNKNOWN', `variable ${text} is used outside a regex; Grafana regex-escapes it, so write "tag" =~ /^${text}$/`, { macro: text });
    }
    return regexFormat(name, value);
  });
}

/** Every dashboard query, expanded for one time range and one selection of variables. */
export function expandDashboardQueries(dashboard: unknown, opts: ExpandOptions): (DashboardQuery & { influxql: string })[] {
  return dashboardQueries(dashboard).map((q) => {
    try {
      return { ...q, influxql: expandQuery(q.query, opts) };
    } catch (e) {
      if (!(e instanceof DashboardError)) throw e;
      // Say which panel target (or variable) failed.
      throw new DashboardError(e.code as DashboardErrorCode, `${q.path} (${q.title}): ${e.message}`, { ...e.coords, path: q.path });
    }
  });
}
