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

export const REDACTED = '[redacted]';

/**
 * Keys whose values are secrets wherever they appear: a password, a SASL config (it holds one),
 * an Authorization header, a token, a secret, a cookie. `passwordFile` and other `...File` keys
 * are paths, not secrets, and are printed.
 */
const SECRET_KEY = /^(?!.*file$)(.*(password|passwd|sasl|authori[sz]ation|secret|credential|cookie|api[-_]?key|private[-_]?key).*|pass|pwd|(.*[-_])?token|.*Token|tokens?)$/i;

/** Secrets inside text: `user:password@` in a URL, and the credentials of an Authorization header value. */
const SECRET_TEXT: Array<[RegExp, string]> = [
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi, `$1${REDACTED}@`],
  [/\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{4,}/g, `$1 ${REDACTED}`],
];

export function redactText(text: string): string {
  let out = text;
  for (const [re, by] of SECRET_TEXT) out = out.replace(re, by);
  return out;
}

/** Nesting below this is summarised; log fields are small records, not documents. */
const MAX_DEPTH = 8;

/**
 * A copy of a log field with every secret replaced by `[redacted]`: values under a secret key at
 * any depth, and credentials inside strings (see SECRET_TEXT). Errors become { name, message, code }.
 */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown };
    return { name: e.name, message: redactText(e.message), ...(e.code !== undefined ? { code: e.code } : {}) };
  }
  if (typeof value !== 'object' || value === null || value instanceof Date || ArrayBuffer.isView(value)) return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[nested]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
    if (value instanceof Map) return redact(Object.fromEntries(value), depth, seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null ? REDACTED : redact(v, depth + 1, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

export function createLogger(ns = 'diffwatch'): Logger {
  const emit = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < RANK[globalLevel]) return;
    const rec: Record<string, unknown> = { time: new Date().toISOString(), level, ns, msg: redactText(msg) };
    if (fields) Object.assign(rec, redact(fields));
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
