/** InfluxDB credentials: basic auth on every request, 401/403 as AuthError naming InfluxDB, and a writer without admin privilege. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthError, SinkError } from '../../../src/errors.ts';
import { classifyStatus, createInfluxHttp, ensureDatabaseExists } from '../../../src/sinks/influxHttp.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A fake InfluxDB that answers by `reply` and records each request's Authorization header. */
function fakeInflux(reply: (req: IncomingMessage, body: string) => [number, string]): Promise<{ url: string; auth: (string | undefined)[] }> {
  const auth: (string | undefined)[] = [];
  return new Promise((resolve) => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        auth.push(req.headers.authorization);
        const [status, text] = reply(req, body);
        res.writeHead(status, { 'content-type': 'application/json' }).end(text);
      });
    }).listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server!.address() as { port: number }).port}`, auth }));
  });
}

describe('InfluxDB auth', () => {
  it('classifies 401 and 403 as AuthError naming InfluxDB and the user, and 404 as retriable', () => {
    const e = classifyStatus(401, '{"error":"authorization failed"}', 3, 'writer');
    expect(e).toBeInstanceOf(AuthError);
    expect(e.message).toMatch(/^InfluxDB authentication failed: 401 as user "writer"/);
    expect(e.coords).toMatchObject({ service: 'influxdb', user: 'writer', status: 401 });
    expect(classifyStatus(403, 'no', 1)).toBeInstanceOf(AuthError);
    expect(classifyStatus(404, 'database not found', 1)).toMatchObject({ code: 'SINK_UNAVAILABLE', retriable: true });
    expect(classifyStatus(404, '', 1)).toBeInstanceOf(SinkError);
  });

  it('sends basic auth from INFLUX_PASSWORD on writes and queries', async () => {
    const fake = await fakeInflux(() => [204, '']);
    const http = createInfluxHttp({ url: fake.url, database: 'db', timeoutMs: 2_000, username: 'writer', env: { INFLUX_PASSWORD: 'pw' } });
    await http.write(['m v=1 1']);
    expect(fake.auth).toEqual([`Basic ${Buffer.from('writer:pw').toString('base64')}`]);
  });

  it('lets a writer without admin privilege start against an existing database, and refuses a missing one', async () => {
    const fake = await fakeInflux((_req, body) => {
      const q = new URLSearchParams(body).get('q') ?? '';
      if (q.startsWith('CREATE DATABASE')) return [403, '{"error":"error authorizing query: writer not authorized to execute statement \'CREATE DATABASE db\', requires admin privilege"}'];
      return [200, JSON.stringify({ results: [{ statement_id: 0, series: [{ name: 'databases', columns: ['name'], values: [['db']] }] }] })];
    });
    const http = createInfluxHttp({ url: fake.url, database: 'db', timeoutMs: 2_000, username: 'writer', env: { INFLUX_PASSWORD: 'pw' } });
    expect(await ensureDatabaseExists(http, 'db')).toBe('exists');
    await expect(ensureDatabaseExists(http, 'other')).rejects.toThrow(/not visible to the user/);
  });
});
