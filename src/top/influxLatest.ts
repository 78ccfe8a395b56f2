/**
 * The latest word InfluxDB holds on every entity: its newest `scores` point and the newest
 * `alerts` event of each (entity, kind), one `/query` request each (`GROUP BY` tags with
 * `ORDER BY time DESC LIMIT 1` takes the newest point of each group). Names come
 * from influxPoints.ts; `epoch=ms` makes times numbers.
 *
 * @example
 * const influx = createInfluxLatest({ url: 'http://127.0.0.1:8086', database: 'diffwatch', timeoutMs: 900 });
 * const { scores, alerts } = await influx.read();
 */
import { ALERT_FIELDS, ALERT_TAGS, ALERTS_MEASUREMENT, SCORE_FIELDS, SCORE_TAGS, SCORES_MEASUREMENT } from '../sinks/influxPoints.ts';
import { quoteIdent } from '../sinks/influxQl.ts';
import type { LatestAlert, LatestScore } from './topModel.ts';
import { fetchErrorReason } from './opsProbe.ts';

export const LATEST_SCORES_QUERY = `SELECT * FROM ${quoteIdent(SCORES_MEASUREMENT)} GROUP BY ${quoteIdent(SCORE_TAGS.entity)} ORDER BY time DESC LIMIT 1`;
export const LATEST_ALERTS_QUERY = `SELECT * FROM ${quoteIdent(ALERTS_MEASUREMENT)} GROUP BY ${quoteIdent(ALERT_TAGS.entity)}, ${quoteIdent(ALERT_TAGS.kind)} ORDER BY time DESC LIMIT 1`;

/** The JSON of InfluxDB 1.x `/query`. */
export interface QueryAnswer {
  results?: { statement_id?: number; error?: string; series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[];
  error?: string;
}

type Row = Record<string, unknown>;

/** Statement `i`'s rows, each with its group's tags merged in; throws on a statement's error. */
export function rowsOf(answer: QueryAnswer, i: number): Row[] {
  if (answer.error) throw new Error(answer.error);
  const result = answer.results?.[i];
  if (result?.error) throw new Error(result.error);
  const rows: Row[] = [];
  for (const s of result?.series ?? []) {
    for (const v of s.values) rows.push({ ...Object.fromEntries(s.columns.map((c, k) => [c, v[k]])), ...s.tags });
  }
  return rows;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

export function latestScores(answer: QueryAnswer, i = 0): LatestScore[] {
  return rowsOf(answer, i).map((r) => ({
    entity: str(r[SCORE_TAGS.entity]),
    time: Number(r.time),
    state: str(r[SCORE_FIELDS.state]),
    score: num(r[SCORE_FIELDS.score]),
    threshold: num(r[SCORE_FIELDS.threshold]),
    modelVersion: str(r[SCORE_TAGS.modelVersion]),
  }));
}

export function latestAlerts(answer: QueryAnswer, i = 0): LatestAlert[] {
  return rowsOf(answer, i).map((r) => ({
    entity: str(r[ALERT_TAGS.entity]),
    kind: str(r[ALERT_TAGS.kind]),
    time: Number(r.time),
    state: str(r[ALERT_TAGS.state]),
    severity: str(r[ALERT_TAGS.severity]),
    startTime: num(r[ALERT_FIELDS.startTime]),
  }));
}

/** fetch refuses URLs with credentials: they move into a Basic Authorization header (as influxHttp.ts does). */
function splitCredentials(raw: string): { base: URL; headers: Record<string, string> } {
  const base = new URL(raw.endsWith('/') ? raw : raw + '/');
  const headers: Record<string, string> = {};
  if (base.username) {
    headers.authorization = 'Basic ' + Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64');
    base.username = '';
    base.password = '';
  }
  return { base, headers };
}

/** The URL without its credentials, for the screen. */
export const displayUrl = (raw: string): string => splitCredentials(raw).base.toString().replace(/\/$/, '');

export interface InfluxLatest {
  read(): Promise<{ scores: LatestScore[]; alerts: LatestAlert[] }>;
}

export function createInfluxLatest(opts: { url: string; database: string; timeoutMs: number }): InfluxLatest {
  const { base, headers } = splitCredentials(opts.url);
  // One statement per request: with two, InfluxDB 1.6 reports a missing database as "not executed".
  async function query(q: string): Promise<QueryAnswer> {
    const target = new URL('query', base);
    target.search = new URLSearchParams({ db: opts.database, epoch: 'ms', q }).toString();
    let res: Response;
    try {
      res = await fetch(target, { headers, signal: AbortSignal.timeout(opts.timeoutMs) });
    } catch (e) {
      throw new Error(`unreachable: ${fetchErrorReason(e)}`);
    }
    const text = await res.text();
    try {
      return JSON.parse(text) as QueryAnswer;
    } catch {
      throw new Error(`answered ${res.status}: ${text.slice(0, 200)}`);
    }
  }
  return {
    async read() {
      const [scores, alerts] = await Promise.all([query(LATEST_SCORES_QUERY), query(LATEST_ALERTS_QUERY)]);
      return { scores: latestScores(scores), alerts: latestAlerts(alerts) };
    },
  };
}
