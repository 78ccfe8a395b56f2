/**
 * An HTTP proxy in front of InfluxDB that timestamps every point when InfluxDB acknowledges it.
 * The service writes through it (its sinks.influx.url points here); each 2xx answer to a
 * `/write` is parsed, and every line gives (measurement, point time, ack time). With readings
 * whose event time is their production time, ack time − point time is the produce → durable
 * latency of that score, with no probe inside the service.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One acknowledged point: its measurement, its timestamp (ms) and when InfluxDB answered (ms since the epoch). */
export interface AckedPoint {
  measurement: string;
  timeMs: number;
  ackedAtMs: number;
}

export interface InfluxProxy {
  url: string;
  close(): Promise<void>;
}

const TO_MS: Record<string, number> = { ns: 1e-6, n: 1e-6, u: 1e-3, us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/**
 * The measurement and timestamp of each line of a line-protocol body. A measurement ends at the
 * first unescaped comma or space; the timestamp is the last space-separated token (field values
 * may hold spaces only inside quotes, which never end a line).
 */
export function parseLines(body: string, precision: string, ackedAtMs: number): AckedPoint[] {
  const scale = TO_MS[precision] ?? TO_MS.ns;
  const out: AckedPoint[] = [];
  for (const line of body.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    let end = 0;
    while (end < line.length && line[end] !== ',' && line[end] !== ' ') end += line[end] === '\\' ? 2 : 1;
    const ts = line.slice(line.lastIndexOf(' ') + 1);
    if (!/^-?\d+$/.test(ts)) continue; // a line without a timestamp is stamped by the server: no latency to give
    out.push({ measurement: line.slice(0, end).replace(/\\(.)/g, '$1'), timeMs: Number(ts) * scale, ackedAtMs });
  }
  return out;
}

/** Starts the proxy on a free local port; `onAck` gets the points of every acknowledged write. */
export async function startInfluxProxy(upstream: string, onAck: (points: AckedPoint[]) => void): Promise<InfluxProxy> {
  const target = new URL(upstream);
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const up = request(
      { host: target.hostname, port: target.port || 80, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (upRes) => {
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => chunks.push(c));
        upRes.on('end', () => {
          const ackedAtMs = Date.now();
          const url = new URL(req.url ?? '/', 'http://proxy');
          if (url.pathname === '/write' && upRes.statusCode !== undefined && upRes.statusCode < 300) {
            onAck(parseLines(body.toString('utf8'), url.searchParams.get('precision') ?? 'ns', ackedAtMs));
          }
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.end(Buffer.concat(chunks));
        });
      },
    );
    up.on('error', (e) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${e.message}`);
    });
    up.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => forward(req, res, Buffer.concat(chunks)));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((res) => {
      server.closeAllConnections();
      server.close(() => res());
    }),
  };
}
