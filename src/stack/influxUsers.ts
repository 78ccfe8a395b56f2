/**
 * The secure stack's InfluxDB users, over the HTTP API of a server with `auth-enabled = true`.
 * InfluxDB 1.x lets the first admin be created without credentials while no user exists
 * (https://docs.influxdata.com/influxdb/v1.6/administration/authentication_and_authorization/);
 * everything after that is done as that admin: the writer user, the database, and the writer's
 * grant on it. Idempotent: an existing user only has its password set again.
 *
 * @example
 * await ensureInfluxUsers('http://127.0.0.1:8186', security, log);
 */
import { StackError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { quoteIdent, quoteString } from '../sinks/influxQl.ts';
import { readSecret, type StackSecurity } from './security.ts';

interface QueryAnswer {
  results?: { error?: string; series?: { values?: unknown[][] }[] }[];
  error?: string;
}

async function query(url: string, q: string, auth?: { user: string; password: string }): Promise<{ status: number; answer: QueryAnswer }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth) headers.authorization = 'Basic ' + Buffer.from(`${auth.user}:${auth.password}`).toString('base64');
  const res = await fetch(new URL('/query', url), { method: 'POST', headers, body: new URLSearchParams({ q }).toString(), signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let answer: QueryAnswer = {};
  try {
    answer = JSON.parse(text) as QueryAnswer;
  } catch {
    answer = { error: text.slice(0, 300) };
  }
  return { status: res.status, answer };
}

/** The statement's words for an error, never the password it sets. */
const shown = (q: string) => q.replace(/PASSWORD\s+'[^']*'/gi, "PASSWORD '[redacted]'");

async function must(url: string, q: string, auth?: { user: string; password: string }): Promise<QueryAnswer> {
  const { status, answer } = await query(url, q, auth);
  const error = answer.error ?? answer.results?.find((r) => r.error)?.error;
  if (status >= 300 || error) throw new StackError('influxdb', `${shown(q)} answered ${status}: ${error ?? ''}`);
  return answer;
}

export async function ensureInfluxUsers(url: string, sec: StackSecurity, log: Logger): Promise<void> {
  const admin = { user: sec.influx.admin.user, password: readSecret(sec.influx.admin.passwordFile) };
  const writer = { user: sec.influx.writer.user, password: readSecret(sec.influx.writer.passwordFile) };
  // With no user yet, the server accepts exactly this statement without credentials.
  const probe = await query(url, 'SHOW USERS', admin);
  if (probe.status === 401 || probe.status === 403 || (probe.answer.error ?? '').includes('create admin user first')) {
    await must(url, `CREATE USER ${quoteIdent(admin.user)} WITH PASSWORD ${quoteString(admin.password)} WITH ALL PRIVILEGES`);
    log.info('influxdb admin user created', { user: admin.user, passwordFile: sec.influx.admin.passwordFile });
  }
  const users = await must(url, 'SHOW USERS', admin);
  const names = new Set((users.results?.[0]?.series?.[0]?.values ?? []).map((v) => String(v[0])));
  if (names.has(writer.user)) await must(url, `SET PASSWORD FOR ${quoteIdent(writer.user)} = ${quoteString(writer.password)}`, admin);
  else await must(url, `CREATE USER ${quoteIdent(writer.user)} WITH PASSWORD ${quoteString(writer.password)}`, admin);
  await must(url, `CREATE DATABASE ${quoteIdent(sec.influx.database)}`, admin);
  await must(url, `GRANT ALL ON ${quoteIdent(sec.influx.database)} TO ${quoteIdent(writer.user)}`, admin);
  log.info('influxdb users ready', { admin: admin.user, writer: writer.user, database: sec.influx.database });
}
