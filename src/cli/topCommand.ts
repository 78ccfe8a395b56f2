/**
 * `diffwatch top`: a live terminal view for the operator. One row per entity (state, latest
 * score against its threshold, model version, open alerts) read from InfluxDB, and the
 * pipeline's throughput, consumer lag and readiness read from a running service's `/metrics`
 * and `/readyz`. Without a live service it shows the last state InfluxDB holds. The view lives
 * in src/top/; ink and React load inside the action, so `diffwatch --help` loads neither.
 */
import { ConfigError } from '../errors.ts';
import { Command, examples, numberFlag, withExitCode } from './command.ts';

interface TopFlags {
  config?: string;
  metrics?: string;
  interval: number;
  once?: boolean;
}

/** The endpoint of `ops.http`; a wildcard listen address is reached on loopback. Undefined when off or on port 0. */
export function metricsUrlOf(http: { enabled: boolean; host: string; port: number }): string | undefined {
  if (!http.enabled || http.port === 0) return undefined;
  const host = http.host === '0.0.0.0' || http.host === '' ? '127.0.0.1' : http.host === '::' ? '[::1]' : http.host.includes(':') && !http.host.startsWith('[') ? `[${http.host}]` : http.host;
  return `http://${host}:${http.port}/metrics`;
}

function checkUrl(flag: string, raw: string): string {
  try {
    const u = new URL(raw);
    if (u.protocol === 'http:' || u.protocol === 'https:') return raw;
  } catch {
    // reported below
  }
  throw new ConfigError(flag, `must be an http(s) URL such as http://127.0.0.1:9464/metrics, got ${raw}`);
}

async function top(flags: TopFlags): Promise<number> {
  if (!(flags.interval >= 100)) throw new ConfigError('--interval', `must be at least 100 ms, got ${flags.interval}`);
  const metricsUrl = flags.metrics === undefined ? undefined : checkUrl('--metrics', flags.metrics);
  const { loadConfig } = await import('../config/loadConfig.ts');
  const cfg = loadConfig({ file: flags.config });
  const { createInfluxLatest, displayUrl } = await import('../top/influxLatest.ts');
  const { createOpsProbe } = await import('../top/opsProbe.ts');
  const { createTopSource } = await import('../top/topSource.ts');
  // React's production build: the development one checks and warns on every render, each second.
  process.env.NODE_ENV ??= 'production';
  const { runTop } = await import('../top/runTop.ts');
  // A read may take most of an interval, never more than a few seconds.
  const timeoutMs = Math.min(Math.max(flags.interval - 100, 500), 5_000);
  const { url, database } = cfg.sinks.influx;
  const endpoint = metricsUrl ?? metricsUrlOf(cfg.ops.http);
  const source = createTopSource({
    influx: createInfluxLatest({ url: (await import('../config/secrets.ts')).influxUrlWithCredentials(url, cfg.sinks.influx), database, timeoutMs }),
    ops: endpoint === undefined ? undefined : createOpsProbe({ metricsUrl: endpoint, timeoutMs }),
    influxUrl: displayUrl(url),
    database,
  });
  return runTop({ source, intervalMs: flags.interval, once: flags.once === true });
}

export function topCommand(): Command {
  return new Command('top')
    .summary('live terminal view: entity states, scores, open alerts, throughput, lag, readiness')
    .description(
      'Show, refreshed every --interval ms, one row per entity from InfluxDB (state, latest score against its threshold, model version, open alerts) and, from a running service\'s /metrics and /readyz, readings/s, windows/s, consumer lag and readiness. Without a live service it shows the last state InfluxDB holds. Keys: q (or Ctrl-C) quits.',
    )
    .option('--config <file>', 'diffwatch config (sinks.influx.url and database, ops.http); env INFLUX_URL, INFLUX_DATABASE and DIFFWATCH_OPS_HTTP override it')
    .option('--metrics <url>', "the service's /metrics (default: from ops.http, http://127.0.0.1:9464/metrics)")
    .option('--interval <ms>', 'ms between refreshes', numberFlag('--interval'), 1_000)
    .option('--once', 'print one frame and exit (two scrapes one interval apart, for the rates); exit 1 if InfluxDB cannot be read')
    .addHelpText('after', examples('diffwatch top --config config/diffwatch.json', 'diffwatch top --metrics http://10.0.0.5:9464/metrics --interval 2000', 'diffwatch top --config config/diffwatch.json --once'))
    .action(withExitCode(top));
}
