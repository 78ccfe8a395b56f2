/**
 * Helpers of the service-level integration tests: run the `diffwatch` CLI as a child process
 * (to completion, or in the background with its structured logs parsed as they arrive), write a
 * config file, produce a NAB series straight from the test, read the group's committed offsets,
 * query InfluxDB, and put a switchable TCP proxy in front of InfluxDB to simulate an outage.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InfluxDB } from 'influx';
import type { Admin, Kafka } from 'kafkajs';
import { encodeReading } from '../../../src/ingest/codec/index.ts';
import { readCsvSeries } from '../../../src/ingest/csvSeries.ts';
import { influxUrl, waitUntil, withTestOps } from '../helpers.ts';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const BIN = join(ROOT, 'bin/diffwatch.js');
export const NAB = join(ROOT, 'data/nab');

/** Characters of stderr kept in failure messages. */
const TAIL_CHARS = 4_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** One structured log line of the service (src/log.ts): `{ time, level, ns, msg, ...fields }`. */
export interface LogRecord {
  time: string;
  level: string;
  ns: string;
  msg: string;
  [field: string]: unknown;
}

export interface DiffwatchProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<Exit>;
  /** Structured log lines seen so far, in order; other stderr lines (kafkajs) are skipped. */
  logs(): readonly LogRecord[];
  stderrTail(chars?: number): string;
  /**
   * Polls `condition` until it holds; fails early if the process exits, and after `timeoutMs`
   * (default 30 s), with `what` and the tail of stderr in the message.
   */
  waitFor(condition: () => boolean | Promise<boolean>, opts: { what: string; timeoutMs?: number; intervalMs?: number }): Promise<void>;
  /** Polls the parsed logs until `predicate` holds for one record at index >= `from`; returns that index. */
  waitForLog(predicate: (r: LogRecord) => boolean, opts: { what: string; from?: number; timeoutMs?: number }): Promise<number>;
  /** Sends `signal` if the process is still running. */
  kill(signal?: NodeJS.Signals): void;
}

/** Every child started by `startDiffwatch` that has not exited yet, for `killAllDiffwatch`. */
const running = new Set<ChildProcessWithoutNullStreams>();

/** The environment of a child: the test's, plus overrides (env beats the config file, see README). */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...env };
}

/**
 * Start `diffwatch <args>` in the background. The caller must make sure it ends: await `exited`,
 * call `kill`, or call `killAllDiffwatch()` in `afterEach`.
 */
export function startDiffwatch(args: string[], env: Record<string, string>): DiffwatchProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(env) });
  running.add(child);
  let stdout = '';
  let stderr = '';
  let partial = '';
  const records: LogRecord[] = [];
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    const text = String(d);
    stderr += text;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const rec = parseLogLine(line);
      if (rec) records.push(rec);
    }
  });
  const exited = new Promise<Exit>((res) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      // Streams may still hold data after 'exit'; 'close' follows once they are drained.
      child.once('close', () => res({ code, signal, stdout, stderr }));
    });
  });
  const tail = (chars = TAIL_CHARS) => stderr.slice(-chars);
  const waitFor: DiffwatchProcess['waitFor'] = async (condition, { what, timeoutMs = 30_000, intervalMs }) => {
    try {
      await waitUntil(
        async () => {
          if (child.exitCode !== null || child.signalCode !== null) throw new Error(`diffwatch exited (${child.exitCode ?? child.signalCode}) before: ${what}`);
          return condition();
        },
        { timeoutMs, intervalMs, what },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- diffwatch stderr (tail) ---\n${tail()}`);
    }
  };
  return {
    child,
    exited,
    logs: () => records,
    stderrTail: tail,
    waitFor,
    async waitForLog(predicate, { what, from = 0, timeoutMs }) {
      let found = -1;
      await waitFor(() => (found = records.findIndex((r, i) => i >= from && predicate(r))) >= 0, { what, timeoutMs });
      return found;
    },
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

function parseLogLine(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const rec = JSON.parse(line) as Partial<LogRecord>;
    return typeof rec.ns === 'string' && typeof rec.msg === 'string' ? (rec as LogRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** SIGKILL every child still running (for `afterEach`), and wait until they are gone. */
export async function killAllDiffwatch(): Promise<void> {
  const gone = [...running].map((c) => new Promise<void>((res) => (c.exitCode !== null || c.signalCode !== null ? res() : c.once('exit', () => res()))));
  for (const c of running) c.kill('SIGKILL');
  await Promise.all(gone);
}

/** Waits for `p` to exit; after `timeoutMs` it is killed (SIGKILL) and this rejects with its stderr tail. */
export async function exitWithin(p: DiffwatchProcess, timeoutMs: number, what = 'diffwatch'): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => {
      p.kill('SIGKILL');
      rej(new Error(`${what} did not exit within ${timeoutMs} ms\n--- diffwatch stderr (tail) ---\n${p.stderrTail()}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Run `diffwatch <args>` to completion; rejects (after SIGKILL) if it runs past `timeoutMs`. */
export function runDiffwatch(args: string[], env: Record<string, string>, timeoutMs = 150_000): Promise<Exit> {
  return exitWithin(startDiffwatch(args, env), timeoutMs, `diffwatch ${args[0]}`);
}

/**
 * Write `config` as JSON into a fresh temporary directory; returns the file's path. The NAB
 * series carry 2013–2015 timestamps, older than any raw retention (InfluxDB refuses such points),
 * so unless a test sets `sinks.retention` its service keeps raw points forever (`raw: 'INF'`).
 * Its operator endpoint listens on an ephemeral port (withTestOps).
 */
export function writeConfig(config: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'diffwatch-it-')), 'config.json');
  const c = config as { sinks?: { retention?: unknown } };
  writeFileSync(file, JSON.stringify(withTestOps(c.sinks?.retention === undefined ? { ...c, sinks: { ...c.sinks, retention: { raw: 'INF' } } } : c)));
  return file;
}

/**
 * Produce rows [from, to) of a single-channel CSV series as Avro readings of one entity (keyed by
 * it, like `diffwatch replay`), in order, from the test process: no CLI start-up, so a test can
 * produce at an exact moment. With one partition, row r of a fresh topic lands at offset r.
 */
export async function produceSeries(kafka: Kafka, o: { topic: string; entity: string; file: string; from?: number; to: number }): Promise<void> {
  const series = readCsvSeries(o.file);
  const C = series.channels.length;
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let start = o.from ?? 0; start < o.to; start += 1_000) {
      const messages = [];
      for (let r = start; r < Math.min(o.to, start + 1_000); r++) {
        const values: Record<string, number> = {};
        for (let c = 0; c < C; c++) values[series.channels[c]] = series.values[r * C + c];
        messages.push({ key: o.entity, value: encodeReading({ entityId: o.entity, timestamp: series.timestamps[r], values }, 'avro') });
      }
      await producer.send({ topic: o.topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * End times of the complete windows (hop 1) of the first `limit` rows, in window order: window k
 * covers rows k .. k+L-1 and is stored at the time of row k+L-1.
 */
export function windowEndTimes(file: string, limit: number, windowLength: number): number[] {
  return Array.from(readCsvSeries(file).timestamps.slice(windowLength - 1, limit));
}

/** Committed offset of each partition of `topic` for `groupId` ('-1': none), by partition. */
export async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map(t.partitions.map((p) => [p.partition, BigInt(p.offset)]));
}

/** End offset (high watermark) of each partition of `topic`, by partition. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
}

/** A client for `database` on the stack's InfluxDB (directly, never through a proxy). */
export function influxClient(database: string): InfluxDB {
  const u = new URL(influxUrl());
  return new InfluxDB({ host: u.hostname, port: Number(u.port), database });
}

/** Points in `scores` of one entity (distinct timestamps: a rewritten point overwrites). */
export async function countScores(influx: InfluxDB, entity: string): Promise<number> {
  const rows = await influx.query<{ count: number }>(`SELECT count("score") AS count FROM "scores" WHERE "entity" = '${entity}'`);
  return rows[0]?.count ?? 0;
}

/** Timestamps (epoch ms) of the points in `scores` of one entity. */
export async function scoreTimes(influx: InfluxDB, entity: string): Promise<Set<number>> {
  const rows = await influx.query<{ time: Date }>(`SELECT "score" FROM "scores" WHERE "entity" = '${entity}'`);
  return new Set(rows.map((r) => r.time.getTime()));
}

/**
 * The windows of `ends` (window end times, in window order) missing from `stored`, as index
 * ranges (`"969-999"`), for failure messages: which windows were lost says where and why.
 */
export function describeMissing(ends: readonly number[], stored: ReadonlySet<number>, max = 10): string {
  const ranges: string[] = [];
  let total = 0;
  for (let i = 0; i < ends.length; i++) {
    if (stored.has(ends[i])) continue;
    let j = i;
    while (j + 1 < ends.length && !stored.has(ends[j + 1])) j++;
    total += j - i + 1;
    if (ranges.length < max) ranges.push(i === j ? `${i}` : `${i}-${j}`);
    i = j;
  }
  return total === 0 ? 'none missing' : `${total} windows missing, by index: ${ranges.join(', ')}${ranges.length === max ? ', ...' : ''}`;
}

/**
 * What the proxy does with traffic: `pass` forwards it; `blackhole` accepts connections and
 * never answers (a hung server: clients hit their timeout); `refuse` resets every connection at
 * once (a server that is down). Leaving `pass` cuts the connections already open, so keep-alive
 * sockets cannot slip past the outage.
 */
export type ProxyMode = 'pass' | 'blackhole' | 'refuse';

export interface TcpProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  setMode(mode: ProxyMode): void;
  /** Connections accepted in each mode so far. */
  readonly accepted: Readonly<Record<ProxyMode, number>>;
  close(): Promise<void>;
}

/** A TCP proxy on a free loopback port in front of `target` (the stack's InfluxDB by default). */
export async function startTcpProxy(target: URL = new URL(influxUrl())): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass';
  const accepted: Record<ProxyMode, number> = { pass: 0, blackhole: 0, refuse: 0 };
  const open = new Set<Socket>();
  const track = (s: Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => s.destroy());
  };
  const server: Server = createServer((client) => {
    accepted[mode]++;
    track(client);
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'blackhole') {
      client.resume(); // read and discard, never answer
      return;
    }
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const port = (server.address() as { port: number }).port;
  const cutAll = () => {
    for (const s of open) s.destroy();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    accepted,
    setMode(next) {
      if (next !== mode) cutAll();
      mode = next;
    },
    close() {
      cutAll();
      return new Promise((res) => server.close(() => res()));
    },
  };
}
