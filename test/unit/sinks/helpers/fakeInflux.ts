/**
 * A fake InfluxDB 1.x HTTP server on 127.0.0.1:0 for writer tests. Each /write request is
 * answered by `respond(lines)`: a status (storing the lines it names), or 'drop' to destroy
 * the connection. Every request is recorded, and `stored` counts how often each line landed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeAnswer = { status: number; body?: string; store?: readonly string[] } | 'drop';

export interface FakeRequest {
  path: string;
  query: URLSearchParams;
  body: string;
  lines: string[];
  answer: FakeAnswer;
}

export interface FakeInflux {
  url: string;
  requests: FakeRequest[];
  /** How many times each line was stored (a retry that stores twice shows up as 2). */
  stored: Map<string, number>;
  /** Lines in the order they were stored. */
  storedOrder: string[];
  respond: (lines: string[]) => FakeAnswer;
  /** Resolves once `n` /write requests have been answered. */
  waitForRequests(n: number): Promise<void>;
  close(): Promise<void>;
}

export const OK: FakeAnswer = { status: 204 };

export async function startFakeInflux(): Promise<FakeInflux> {
  const waiters: { n: number; resolve(): void }[] = [];
  const fake: FakeInflux = {
    url: '',
    requests: [],
    stored: new Map(),
    storedOrder: [],
    respond: () => OK,
    waitForRequests(n) {
      if (writes() >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const writes = () => fake.requests.filter((r) => r.path === '/write').length;

  function store(lines: readonly string[]): void {
    for (const line of lines) {
      fake.stored.set(line, (fake.stored.get(line) ?? 0) + 1);
      fake.storedOrder.push(line);
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let answer: FakeAnswer;
    if (url.pathname === '/query') {
      const q = new URLSearchParams(body).get('q') ?? '';
      answer = fake.respond([q]);
      if (answer !== 'drop' && answer.status < 300) answer = { status: 200, body: '{"results":[{"statement_id":0}]}' };
    } else {
      const lines = body.split('\n');
      answer = fake.respond(lines);
      if (answer !== 'drop') store(answer.store ?? (answer.status < 300 ? lines : []));
    }
    fake.requests.push({ path: url.pathname, query: url.searchParams, body, lines: body.split('\n'), answer });
    if (answer === 'drop') {
      req.socket.destroy();
    } else {
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body ?? (answer.status === 204 ? undefined : JSON.stringify({ error: `status ${answer.status}` })));
    }
    const n = writes();
    for (const w of waiters.splice(0)) {
      if (n >= w.n) w.resolve();
      else waiters.push(w);
    }
  }

  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => handle(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
