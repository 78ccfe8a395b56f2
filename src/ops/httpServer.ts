/**
 * The operator's HTTP endpoint on node:http: every request goes through a `Router`. Port 0 asks
 * the OS for a free port; `address` says which one it got.
 *
 * @example
 * const server = await startHttpServer({ host: '127.0.0.1', port: 0, route });
 * await fetch(`${server.address.url}/metrics`);
 * await server.close();
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../errors.ts';
import type { Router } from './router.ts';

export interface HttpAddress {
  host: string;
  port: number;
  /** `http://host:port`, with IPv6 hosts in brackets. */
  url: string;
}

export interface OpsHttpServer {
  readonly address: HttpAddress;
  /** Stops accepting connections and ends idle keep-alive ones; resolves when closed. */
  close(): Promise<void>;
}

export async function startHttpServer(opts: { host: string; port: number; route: Router }): Promise<OpsHttpServer> {
  const server: Server = createServer((req, res) => {
    void opts.route(req.method ?? 'GET', req.url ?? '/').then((reply) => {
      res.writeHead(reply.status, { 'cache-control': 'no-store', ...reply.headers });
      res.end(req.method === 'HEAD' ? undefined : reply.body);
    });
  });
  // A scraper's keep-alive connection must not hold the process open after close().
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new ConfigError('ops.http.port', `${opts.host}:${opts.port} is in use; choose another port, 0 for any free one, or set ops.http.enabled to false`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') reject(new ConfigError('ops.http.host', `cannot listen on ${opts.host}: ${e.message}`));
      else reject(e);
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    address: { host: a.address, port: a.port, url: `http://${host}:${a.port}` },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
