/**
 * The InfluxDB 1.x configuration of the local stack, rendered from the config. Pure: tested without influxd.
 * Keys as in the 1.6 sample config (`influxd config` prints the full set).
 */

export interface InfluxSettings {
  /** HTTP API port on 127.0.0.1. */
  httpPort: number;
  /** RPC (backup/restore) port on 127.0.0.1; influxd binds it even when nobody uses it. */
  rpcPort: number;
  metaDir: string;
  dataDir: string;
  walDir: string;
  /** `[http] auth-enabled`: every request but /ping needs a user (the secure stack). */
  authEnabled?: boolean;
}

const q = (s: string) => JSON.stringify(s);

export function renderInfluxConf(s: InfluxSettings): string {
  return [
    '# Rendered by diffwatch stack (src/stack/influxConf.ts). Edits are overwritten on `stack up`.',
    'reporting-disabled = true',
    `bind-address = ${q(`127.0.0.1:${s.rpcPort}`)}`,
    '',
    '[meta]',
    `  dir = ${q(s.metaDir)}`,
    '  retention-autocreate = true',
    '  logging-enabled = true',
    '',
    '[data]',
    `  dir = ${q(s.dataDir)}`,
    `  wal-dir = ${q(s.walDir)}`,
    '  query-log-enabled = false',
    // In-memory index: fine for test-sized series counts, and nothing to rebuild on disk.
    '  index-version = "inmem"',
    '',
    '[monitor]',
    // The _internal database would otherwise write every 10 s for nothing.
    '  store-enabled = false',
    '',
    '[http]',
    '  enabled = true',
    `  bind-address = ${q(`127.0.0.1:${s.httpPort}`)}`,
    `  auth-enabled = ${s.authEnabled === true}`,
    '  log-enabled = false',
    '  write-tracing = false',
    '  max-body-size = 0',
    '',
    '[logging]',
    // influxd writes its log to stderr; the stack redirects that to logs/influxdb.log.
    '  format = "logfmt"',
    '  level = "info"',
    '  suppress-logo = true',
    '',
    '[subscriber]',
    '  enabled = false',
    '',
    '[continuous_queries]',
    '  enabled = true',
    '  log-enabled = false',
    '',
  ].join('\n');
}
