/**
 * The two InfluxDB 1.x HTTP calls the writer makes, over Node's `fetch`, with every failure
 * turned into a `SinkError` that says whether to retry.
 *
 * Why not node-influx's `writePoints`: its pool reports a 5xx as a `ServiceNotAvailableError`
 * without the status or the body, retries network errors and 503 by itself and then takes the
 * host out of rotation on its own backoff timer (later writes fail with "No host available"
 * without reaching the server). Our writer owns backoff, splitting and bisection, so it needs
 * the raw status and error text of every single request. node-influx is still used for
 * escaping (lineProtocol.ts) and for queries.
 */
import { escape } from 'influx';
import { influxCredentials } from '../config/secrets.ts';
import { AuthError, SinkError } from '../errors.ts';

export const INFLUX_SINK = 'influxdb';

/** Largest piece of a server answer kept in an error message. */
const MAX_ERROR_TEXT = 1_000;

export interface InfluxHttp {
  /** POST /write?db=…&precision=ms. Resolves on 2xx; rejects with a classified SinkError. */
  write(lines: readonly string[]): Promise<void>;
  /** POST /query (for statements such as CREATE DATABASE). Resolves with the parsed JSON answer. */
  query(q: string): Promise<unknown>;
}

export interface InfluxHttpOptions {
  url: string;
  database: string;
  /** ms per request. */
  timeoutMs: number;
  /** User for HTTP basic auth; its password comes from INFLUX_PASSWORD or `passwordFile` (config/secrets.ts). */
  username?: string | null;
  passwordFile?: string | null;
  /** Where INFLUX_PASSWORD is read from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * 400: a bad point or a field-type conflict; 413: the body is over the server's limit.
 * 429 and 5xx are transient. 401/403 (wrong or missing credentials, no privilege) are an
 * AuthError: the same request can never succeed, so start-up fails at once with a message that
 * names InfluxDB and the user. 404 (a missing database) is an operator problem, not bad data:
 * retrying keeps the data until it is fixed instead of dropping it.
 */
export function classifyStatus(status: number, text: string, batchSize: number, user?: string): SinkError | AuthError {
  const body = text.slice(0, MAX_ERROR_TEXT);
  if (status === 401 || status === 403) {
    const who = user === undefined ? 'without credentials (set INFLUX_USERNAME and INFLUX_PASSWORD or sinks.influx.passwordFile)' : `as user ${JSON.stringify(user)}`;
    const what = status === 401 ? 'InfluxDB authentication failed' : 'InfluxDB refused the request (no privilege)';
    return new AuthError('influxdb', `${what}: ${status} ${who}: ${body}`, { status, ...(user === undefined ? {} : { user }), sink: INFLUX_SINK });
  }
  const opts = { sink: INFLUX_SINK, batchSize, status };
  if (status === 400) return new SinkError('SINK_REJECTED', `InfluxDB rejected the batch: ${body}`, { ...opts, retriable: false });
  if (status === 413) return new SinkError('SINK_TOO_LARGE', `InfluxDB refused the request size: ${body}`, { ...opts, retriable: false });
  return new SinkError('SINK_UNAVAILABLE', `InfluxDB answered ${status}: ${body}`, { ...opts, retriable: true });
}

/** fetch refuses URLs with credentials; move them into a Basic Authorization header. */
function splitCredentials(raw: string): { base: URL; headers: Record<string, string>; user?: string } {
  const base = new URL(raw.endsWith('/') ? raw : raw + '/');
  const headers: Record<string, string> = {};
  let user: string | undefined;
  if (base.username) {
    user = decodeURIComponent(base.username);
    headers.authorization = basicAuth(user, decodeURIComponent(base.password));
    base.username = '';
    base.password = '';
  }
  return { base, headers, user };
}

/** `Basic base64(user:password)`. */
export function basicAuth(username: string, password: string): string {
  return 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
}

export function createInfluxHttp({ url, database, timeoutMs, username, passwordFile, env }: InfluxHttpOptions): InfluxHttp {
  const { base, headers, user: urlUser } = splitCredentials(url);
  // Configured credentials win over any in the URL.
  const creds = influxCredentials({ username: username ?? null, passwordFile: passwordFile ?? null }, env);
  if (creds) headers.authorization = basicAuth(creds.username, creds.password);
  const user = creds?.username ?? urlUser;

  async function post(path: string, params: Record<string, string>, body: string, contentType: string, batchSize: number): Promise<string> {
    const target = new URL(path, base);
    for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
    let res: Response;
    let text: string;
    try {
      res = await fetch(target, {
        method: 'POST',
        headers: { ...headers, 'content-type': contentType },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      // Refused, reset, timed out: the server may or may not have stored the points. Retrying
      // is safe because points carry deterministic timestamps (a rewrite overwrites).
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new SinkError('SINK_UNAVAILABLE', `InfluxDB request failed: ${reason}`, { sink: INFLUX_SINK, batchSize, retriable: true, cause: err });
    }
    if (!res.ok) throw classifyStatus(res.status, text, batchSize, user);
    return text;
  }

  return {
    async write(lines) {
      await post('write', { db: database, precision: 'ms' }, lines.join('\n'), 'text/plain; charset=utf-8', lines.length);
    },
    async query(q) {
      const text = await post('query', {}, new URLSearchParams({ q }).toString(), 'application/x-www-form-urlencoded', 0);
      const json = JSON.parse(text) as { results?: { error?: string }[] };
      const failed = json.results?.find((r) => r.error);
      if (failed) {
        throw new SinkError('SINK_REJECTED', `InfluxDB query failed: ${failed.error}`, { sink: INFLUX_SINK, retriable: false });
      }
      return json;
    },
  };
}

/**
 * CREATE DATABASE, or, for a user without admin privilege (InfluxDB answers 403), a check that
 * the database already exists and is visible to the user (SHOW DATABASES lists only those).
 * A least-privileged writer can thus start against a database an admin created.
 */
export async function ensureDatabaseExists(http: Pick<InfluxHttp, 'query'>, database: string): Promise<'created' | 'exists'> {
  try {
    await http.query(createDatabaseStatement(database));
    return 'created';
  } catch (err) {
    if (!(err instanceof AuthError) || err.coords.status !== 403) throw err;
    const answer = (await http.query('SHOW DATABASES')) as { results?: { series?: { values?: unknown[][] }[] }[] };
    const names = (answer.results?.[0]?.series?.[0]?.values ?? []).map((v) => String(v[0]));
    if (names.includes(database)) return 'exists';
    throw new AuthError('influxdb', `${err.message}; and database ${JSON.stringify(database)} is not visible to the user: an admin must create it and GRANT ALL (or WRITE and READ) ON it`, { ...err.coords, database }, err);
  }
}

/** `CREATE DATABASE "name"`, quoted with node-influx's escaping. */
export function createDatabaseStatement(database: string): string {
  return `CREATE DATABASE ${escape.quoted(database)}`;
}
