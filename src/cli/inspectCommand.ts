/**
 * `diffwatch inspect --entity <id>`: what diffwatch wrote for one entity, read back from
 * InfluxDB: how many windows were scored in each state, the score range, and the alerts.
 */
import { ConfigError } from '../errors.ts';
import { ALERT_FIELDS, ALERT_TAGS, ALERTS_MEASUREMENT, SCORE_FIELDS, SCORE_TAGS, SCORES_MEASUREMENT } from '../sinks/influxPoints.ts';
import { quoteString } from '../sinks/influxQl.ts';
import { Command, examples, numberFlag, withExitCode } from './command.ts';

export interface EntitySummary {
  entity: string;
  windows: number;
  byState: Record<string, number>;
  /** Windows per model version (`none`: no model yet, cold start). */
  byModelVersion: Record<string, number>;
  maxScore: number | null;
  alerts: { time: string; state: string; severity: string; kind: string; score: number; topChannel: string | null; eventId: string }[];
}

export async function inspectEntity(url: string, database: string, entity: string, auth?: { username?: string | null; passwordFile?: string | null }): Promise<EntitySummary> {
  const { InfluxDB } = await import('influx');
  const u = new URL(url);
  const creds = (await import('../config/secrets.ts')).influxCredentials({ username: auth?.username ?? null, passwordFile: auth?.passwordFile ?? null });
  const influx = new InfluxDB({ host: u.hostname, port: Number(u.port || 8086), protocol: u.protocol === 'https:' ? 'https' : 'http', database, ...creds });
  // Quoted for InfluxQL (influxQl.ts): `'` and `\` escaped, control characters refused.
  const e = quoteString(entity);
  // `state` is a field, not a tag, so count per state with one query each.
  const byState: Record<string, number> = {};
  for (const s of ['normal', 'warmup', 'gap', 'anomaly']) {
    // count(state), not count(score): a window with no score (cold start, gap) is still a window.
    const rows = await influx.query<{ n: number }>(`SELECT count("${SCORE_FIELDS.state}") AS n FROM "${SCORES_MEASUREMENT}" WHERE "${SCORE_TAGS.entity}" = ${e} AND "${SCORE_FIELDS.state}" = '${s}'`);
    if (rows[0]?.n) byState[s] = rows[0].n;
  }
  const agg = await influx.query<{ n: number; mx: number }>(`SELECT count("${SCORE_FIELDS.state}") AS n, max("${SCORE_FIELDS.score}") AS mx FROM "${SCORES_MEASUREMENT}" WHERE "${SCORE_TAGS.entity}" = ${e}`);
  const perVersion = await influx.query<{ n: number; model_version: string }>(`SELECT count("${SCORE_FIELDS.state}") AS n FROM "${SCORES_MEASUREMENT}" WHERE "${SCORE_TAGS.entity}" = ${e} GROUP BY "${SCORE_TAGS.modelVersion}"`);
  const byModelVersion = Object.fromEntries(perVersion.map((r) => [r.model_version, r.n]));
  const alerts = await influx.query<Record<string, unknown> & { time: { toNanoISOString(): string } }>(
    `SELECT * FROM "${ALERTS_MEASUREMENT}" WHERE "${ALERT_TAGS.entity}" = ${e} ORDER BY time ASC`,
  );
  return {
    entity,
    windows: agg[0]?.n ?? 0,
    byState,
    byModelVersion,
    maxScore: agg[0]?.mx ?? null,
    alerts: alerts.map((a) => ({
      time: new Date(a.time as unknown as Date).toISOString(),
      state: String(a[ALERT_TAGS.state]),
      severity: String(a[ALERT_TAGS.severity]),
      kind: String(a[ALERT_TAGS.kind]),
      score: Number(a[ALERT_FIELDS.score]),
      topChannel: (a[ALERT_FIELDS.topChannel] as string | null) ?? null,
      eventId: String(a[ALERT_FIELDS.eventId]),
    })),
  };
}

async function inspect(flags: { entity?: string; config?: string; limit: number; json?: boolean }): Promise<number> {
  const { loadConfig } = await import('../config/loadConfig.ts');
  const cfg = loadConfig({ file: flags.config });
  const { entity } = flags;
  if (!entity) throw new ConfigError('--entity', 'is required');
  const s = await inspectEntity(cfg.sinks.influx.url, cfg.sinks.influx.database, entity, cfg.sinks.influx).catch(async (e: Error) => {
    // node-influx reports a refused login as a plain Error with the status in its message.
    const status = /\b(401|403)\b/.exec(e.message)?.[1];
    if (!status) throw e;
    const { AuthError } = await import('../errors.ts');
    throw new AuthError('influxdb', `InfluxDB ${status === '401' ? 'authentication failed' : 'refused the request (no privilege)'}: ${status} as user ${JSON.stringify(cfg.sinks.influx.username)}`, { status: Number(status), user: cfg.sinks.influx.username ?? undefined }, e);
  });
  if (flags.json === true) {
    process.stdout.write(JSON.stringify(s, null, 2) + '\n');
    return 0;
  }
  const limit = flags.limit;
  const incidents = new Set(s.alerts.filter((a) => a.state === 'open').map((a) => `${a.kind}@${a.time}`)).size;
  const out = [
    `entity ${s.entity}: ${s.windows} windows, max score ${s.maxScore?.toFixed(2) ?? '-'}`,
    `  by state: ${Object.entries(s.byState).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}`,
    `  by model version: ${Object.entries(s.byModelVersion).map(([k, v]) => `${k === 'none' ? 'none (cold start)' : k} ${v}`).join(', ') || '-'}`,
    `  alert events: ${s.alerts.length} (${incidents} opened)${s.alerts.length > limit ? `, the first ${limit}:` : ''}`,
    ...s.alerts.slice(0, limit).map((a) => `    ${a.time}  ${a.state.padEnd(8)} ${a.severity.padEnd(8)} ${a.kind.padEnd(8)} score ${a.score.toFixed(2).padStart(8)}  top ${a.topChannel ?? '-'}  id ${a.eventId}`),
  ];
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

export function inspectCommand(): Command {
  return new Command('inspect')
    .summary('show the scores and alerts diffwatch wrote for an entity')
    .description('Read back from InfluxDB what diffwatch wrote for one entity: windows per state and per model version, the highest score, and the alert events.')
    .option('--entity <id>', 'the entity id')
    .option('--config <file>', 'diffwatch config (sinks.influx.url, database); env INFLUX_URL overrides it')
    .option('--limit <n>', 'alert events to list', numberFlag('--limit'), 20)
    .option('--json', 'print the summary, with every alert event, as JSON')
    .addHelpText('after', examples('diffwatch inspect --config config/diffwatch.json --entity machine-1', 'diffwatch inspect --entity pump-7 --json'))
    .action(withExitCode(inspect));
}
