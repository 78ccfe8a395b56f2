/**
 * What the benchmarks that drive the real stack share: the services (the local stack or the
 * ones named by KAFKA_BROKERS / INFLUX_URL), unique names for a run's topics, group and
 * database and their clean-up, config overrides, and /proc figures of a child process.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InfluxDB } from 'influx';
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../src/config/loadConfig.ts';
import { ConfigError } from '../src/errors.ts';
import type { Logger } from '../src/log.ts';
import { stackUp } from '../src/stack/stack.ts';

export interface Services {
  brokers: string[];
  influxUrl: string;
  kafkaVersion: string;
  influxVersion: string;
}

/** The services named by KAFKA_BROKERS / INFLUX_URL, or else the local stack, started if down. */
export async function ensureServices(log: Logger): Promise<Services> {
  const cfg = loadConfig();
  if (process.env.KAFKA_BROKERS || process.env.INFLUX_URL) {
    return { brokers: [...cfg.kafka.brokers], influxUrl: cfg.sinks.influx.url, kafkaVersion: 'external', influxVersion: 'external' };
  }
  const { status } = await stackUp(cfg.stack, log.namespace('stack'));
  return {
    brokers: [`127.0.0.1:${cfg.stack.kafkaPort}`],
    influxUrl: `http://127.0.0.1:${cfg.stack.influxPort}`,
    kafkaVersion: status.kafka.version ?? 'unknown',
    influxVersion: status.influxdb.version ?? 'unknown',
  };
}

export function influxClient(url: string, database: string): InfluxDB {
  const u = new URL(url);
  return new InfluxDB({ host: u.hostname, port: Number(u.port || 8086), protocol: u.protocol === 'https:' ? 'https' : 'http', database });
}

export const uniqueName = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

/** Removes a run's topics, group and database; a failure is logged, not thrown, so that the figures survive it. */
export async function cleanUp(kafka: Kafka, influx: InfluxDB, names: { topics: string[]; groupIds: string[]; database: string }, log: Logger): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups(names.groupIds).catch(() => undefined);
    await admin.deleteTopics({ topics: names.topics });
    await influx.dropDatabase(names.database);
  } catch (e) {
    log.warn('clean-up failed; the run left topics or a database behind', { ...names, error: e });
  } finally {
    await admin.disconnect();
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The `--override` flag: a JSON object of config keys. */
export function parseOverride(json: string | undefined): Record<string, unknown> {
  if (json === undefined) return {};
  try {
    const v: unknown = JSON.parse(json);
    if (isObject(v)) return v;
  } catch {
    // reported below
  }
  throw new ConfigError('--override', `must be a JSON object of config keys, got ${json}`);
}

/** `over` merged into `base`, objects recursively; the service's own loader validates the keys. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux x86 and arm64). */
const USER_HZ = 100;

export interface ProcSample {
  /** VmHWM, the peak resident set, KiB. */
  peakRssKiB: number;
  /** VmRSS, the resident set now, KiB. */
  rssKiB: number;
  /** utime + stime, s. */
  cpuS: number;
}

/** Peak and current RSS and CPU time of a live process, or undefined once it is gone (or without /proc). */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return hwm && rss ? { peakRssKiB: Number(hwm[1]), rssKiB: Number(rss[1]), cpuS: (Number(f[11]) + Number(f[12])) / USER_HZ } : undefined;
  } catch {
    return undefined;
  }
}

/** The items of a comma-separated flag, trimmed, empty ones left out: `'wasm, tensorflow,'` → `['wasm', 'tensorflow']`. */
export function listFlag(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter(Boolean);
}

/** Median of the numbers (the mean of the middle two for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >>> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}
