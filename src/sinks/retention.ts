/**
 * Storage that does not grow forever: at start-up, make the database keep raw points for
 * `sinks.retention.raw`, and install the continuous queries that roll scores, states and alerts
 * up into 1-minute and 1-hour measurements kept for `minute` and `hour` (rollups.ts).
 *
 * Idempotent, so every instance runs it at every start:
 * - a missing policy is created; one whose duration differs from the config is ALTERed (InfluxDB
 *   drops the shards that fall out of a shortened policy at its next retention check);
 * - the raw policy is made the database's DEFAULT, so the writer (no `rp` on /write) and every
 *   query without a policy (the raw dashboard panels) use it with no change;
 * - a CQ is unique by name: an identical one is kept, a changed one is dropped and recreated,
 *   and a `diffwatch_*` CQ no longer declared is dropped.
 *
 * Points written before the raw policy became the default stay in the previous default policy
 * (usually `autogen`): InfluxDB does not move data between policies.
 *
 * @example
 * await ensureRetention(cfg.sinks.influx, cfg.sinks.retention, { log });
 */
import { ConfigError } from '../errors.ts';
import { rootLogger, type Logger } from '../log.ts';
import { createInfluxHttp, type InfluxHttp } from './influxHttp.ts';
import { quoteIdent } from './influxQl.ts';
import { createCqStatement, normaliseCq, RETENTION_POLICIES, ROLLUP_QUERY_PREFIX, rollupQueries } from './rollups.ts';

/** `sinks.retention`: InfluxQL durations (`30d`, `52w`, `720h`) or `INF`. */
export interface RetentionSettings {
  enabled: boolean;
  raw: string;
  minute: string;
  hour: string;
}

export type PolicyAction = 'created' | 'altered' | 'unchanged';
export type QueryAction = 'created' | 'recreated' | 'unchanged' | 'dropped';

export interface RetentionReport {
  policies: { name: string; duration: string; action: PolicyAction }[];
  queries: { name: string; action: QueryAction }[];
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, u: 1e-3, µ: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3_600e3, d: 86_400e3, w: 604_800e3 };

/**
 * An InfluxQL duration (`30d`, `1h30m`) or Go's form from SHOW RETENTION POLICIES (`720h0m0s`)
 * in ms; `INF` and `0s` (InfluxDB's "forever") are 0. Undefined when it is neither.
 */
export function durationMs(text: string): number | undefined {
  if (/^inf$/i.test(text.trim())) return 0;
  const parts = [...text.trim().matchAll(/(\d+)(ns|ms|u|µ|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text.trim()) return undefined;
  return parts.reduce((ms, [, n, unit]) => ms + Number(n) * UNIT_MS[unit], 0);
}

interface ShownPolicy { name: string; durationMs: number; isDefault: boolean }
type Series = { name?: string; columns: string[]; values?: unknown[][] };
const seriesOf = (answer: unknown): Series[] => (answer as { results?: { series?: Series[] }[] }).results?.[0]?.series ?? [];
const rows = (s: Series | undefined) => (s?.values ?? []).map((v) => Object.fromEntries(s!.columns.map((c, i) => [c, v[i]])));

async function showPolicies(http: Pick<InfluxHttp, 'query'>, database: string): Promise<Map<string, ShownPolicy>> {
  const shown = rows(seriesOf(await http.query(`SHOW RETENTION POLICIES ON ${quoteIdent(database)}`))[0]);
  return new Map(shown.map((r) => [String(r.name), { name: String(r.name), durationMs: durationMs(String(r.duration)) ?? -1, isDefault: r.default === true }]));
}

async function showQueries(http: Pick<InfluxHttp, 'query'>, database: string): Promise<Map<string, string>> {
  const mine = seriesOf(await http.query('SHOW CONTINUOUS QUERIES')).find((s) => s.name === database);
  return new Map(rows(mine).map((r) => [String(r.name), String(r.query)]));
}

/** Whether `policy` holds any shard, i.e. data (SHOW SHARDS lists one series per database). */
async function hasShards(http: Pick<InfluxHttp, 'query'>, database: string, policy: string): Promise<boolean> {
  const shards = rows(seriesOf(await http.query('SHOW SHARDS')).find((s) => s.name === database));
  return shards.some((r) => r.retention_policy === policy);
}

async function ensurePolicies(http: Pick<InfluxHttp, 'query'>, database: string, s: RetentionSettings, log: Logger): Promise<RetentionReport['policies']> {
  const shown = await showPolicies(http, database);
  const previousDefault = [...shown.values()].find((p) => p.isDefault)?.name;
  const wanted = [
    { key: 'raw', name: RETENTION_POLICIES.raw, duration: s.raw, isDefault: true },
    { key: 'minute', name: RETENTION_POLICIES.minute, duration: s.minute, isDefault: false },
    { key: 'hour', name: RETENTION_POLICIES.hour, duration: s.hour, isDefault: false },
  ];
  const report: RetentionReport['policies'] = [];
  for (const w of wanted) {
    const ms = durationMs(w.duration);
    if (ms === undefined || (ms > 0 && ms < 3_600_000)) {
      throw new ConfigError(`sinks.retention.${w.key}`, `"${w.duration}" is not a retention duration: use an InfluxQL duration of at least 1h (30d, 52w, 720h) or INF`);
    }
    const have = shown.get(w.name);
    const target = `${quoteIdent(w.name)} ON ${quoteIdent(database)} DURATION ${w.duration} REPLICATION 1${w.isDefault ? ' DEFAULT' : ''}`;
    let action: PolicyAction = 'unchanged';
    if (!have) {
      await http.query(`CREATE RETENTION POLICY ${target}`);
      action = 'created';
    } else if (have.durationMs !== ms || (w.isDefault && !have.isDefault)) {
      await http.query(`ALTER RETENTION POLICY ${target}`);
      action = 'altered';
    }
    if (action !== 'unchanged') log.info('retention policy ' + action, { database, policy: w.name, duration: w.duration, default: w.isDefault });
    report.push({ name: w.name, duration: w.duration, action });
  }
  if (previousDefault !== undefined && previousDefault !== RETENTION_POLICIES.raw && (await hasShards(http, database, previousDefault))) {
    log.warn('retention: the raw policy is now the default; points written before stay in the previous default policy', { database, previous: previousDefault, now: RETENTION_POLICIES.raw });
  }
  return report;
}

async function ensureQueries(http: Pick<InfluxHttp, 'query'>, database: string, log: Logger): Promise<RetentionReport['queries']> {
  const shown = await showQueries(http, database);
  const report: RetentionReport['queries'] = [];
  const declared = rollupQueries();
  for (const q of declared) {
    const statement = createCqStatement(database, q);
    const have = shown.get(q.name);
    let action: QueryAction = 'unchanged';
    if (have === undefined) action = 'created';
    else if (normaliseCq(have) !== normaliseCq(statement)) {
      await http.query(`DROP CONTINUOUS QUERY ${quoteIdent(q.name)} ON ${quoteIdent(database)}`);
      action = 'recreated';
    }
    if (action !== 'unchanged') {
      await http.query(statement);
      log.info('continuous query ' + action, { database, query: q.name });
    }
    report.push({ name: q.name, action });
  }
  const names = new Set(declared.map((q) => q.name));
  for (const name of shown.keys()) {
    if (!name.startsWith(ROLLUP_QUERY_PREFIX) || names.has(name)) continue;
    await http.query(`DROP CONTINUOUS QUERY ${quoteIdent(name)} ON ${quoteIdent(database)}`);
    log.info('continuous query dropped', { database, query: name });
    report.push({ name, action: 'dropped' });
  }
  return report;
}

/**
 * Creates or updates the retention policies and roll-up CQs of `influx.database` (nothing when
 * `retention.enabled` is false). Call after the database exists (`InfluxWriter.ensureDatabase`).
 */
export async function ensureRetention(
  influx: { url: string; database: string; timeoutMs: number },
  retention: RetentionSettings,
  deps: { log?: Logger; http?: Pick<InfluxHttp, 'query'> } = {},
): Promise<RetentionReport> {
  if (!retention.enabled) return { policies: [], queries: [] };
  const log = deps.log ?? rootLogger.namespace('retention');
  const http = deps.http ?? createInfluxHttp(influx);
  const policies = await ensurePolicies(http, influx.database, retention, log);
  const queries = await ensureQueries(http, influx.database, log);
  return { policies, queries };
}
