/**
 * Structured, namespaced logs: one JSON object per line on stderr.
 * `log.warn('decode failed', { topic, partition, offset, code })`, never string soup.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  namespace(ns: string): Logger;
}

export type LogSink = (line: string) => void;

let globalLevel: LogLevel = (process.env.DIFFWATCH_LOG_LEVEL as LogLevel) in RANK ? (process.env.DIFFWATCH_LOG_LEVEL as LogLevel) : 'info';
let sink: LogSink = (line) => process.stderr.write(line + '\n');

export function setLogLevel(level: LogLevel): void {
  globalLevel = level;
}

/** Redirect log lines (tests capture them). Returns the previous sink. */
export function setLogSink(next: LogSink): LogSink {
  const prev = sink;
  sink = next;
  return prev;
}

function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown };
    return { name: e.name, message: e.message, ...(e.code !== undefined ? { code: e.code } : {}) };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export function createLogger(ns = 'diffwatch'): Logger {
  const emit = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < RANK[globalLevel]) return;
    const rec: Record<string, unknown> = { time: new Date().toISOString(), level, ns, msg };
    if (fields) for (const [k, v] of Object.entries(fields)) rec[k] = serialise(v);
    sink(JSON.stringify(rec));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    namespace: (child) => createLogger(`${ns}.${child}`),
  };
}

export const rootLogger = createLogger();
