/**
 * Deployment settings that may come from the environment, over the config file. The README's
 * table of them is generated from this list (configReference.ts).
 */
import { ConfigError } from '../errors.ts';

type Json = Record<string, unknown>;

export interface EnvOverride {
  /** The environment variable. */
  name: string;
  /** The config key it sets. */
  key: string;
  /** What the README says about its value. */
  note?: string;
  /** Turns the variable's text into the key's value (the schema checks it afterwards). */
  parse: (raw: string, name: string) => unknown;
  /** Also apply an empty value (the ports: `''` reads as 0, which the schema refuses). */
  keepEmpty?: boolean;
  /** A secret: never put into the config, read by the client factory when it connects (secrets.ts). */
  secret?: boolean;
}

const csv = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const text = (s: string) => s;

function flag(key: string) {
  return (raw: string, name: string): boolean => {
    const v = raw.trim().toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new ConfigError(key, `environment variable ${name}=${JSON.stringify(raw)} must be true or false`);
  };
}

function portNumber(key: string) {
  return (raw: string, name: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new ConfigError(key, `environment variable ${name}=${JSON.stringify(raw)} is not an integer port`);
    return n;
  };
}

/** `host:port` (`[::1]:9464` for IPv6) turns the endpoint on there; `off` turns it off. */
function opsHttp(raw: string, name: string): Json {
  if (raw.trim().toLowerCase() === 'off') return { enabled: false };
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d+)$/.exec(raw.trim());
  if (!m) throw new ConfigError('ops.http', `environment variable ${name}=${JSON.stringify(raw)} must be host:port (e.g. 0.0.0.0:9464) or off`);
  return { enabled: true, host: m[1] ?? m[2], port: Number(m[3]) };
}

export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { name: 'KAFKA_BROKERS', key: 'kafka.brokers', note: 'comma-separated `host:port`', parse: csv },
  { name: 'DIFFWATCH_GROUP_ID', key: 'kafka.groupId', parse: text },
  { name: 'DIFFWATCH_TOPICS', key: 'kafka.topics', note: 'comma-separated', parse: csv },
  { name: 'DIFFWATCH_LOG_LEVEL', key: 'log.level', parse: text },
  { name: 'DIFFWATCH_STATE_TOPIC', key: 'detect.stateTopic', note: 'give a new deployment, or a re-run over old data, its own', parse: text },
  { name: 'KAFKA_SSL', key: 'kafka.ssl.enabled', note: 'true or false', parse: flag('kafka.ssl.enabled') },
  { name: 'KAFKA_SSL_CA_FILE', key: 'kafka.ssl.caFile', note: 'turns TLS on', parse: text },
  { name: 'KAFKA_SASL_MECHANISM', key: 'kafka.sasl.mechanism', parse: text },
  { name: 'KAFKA_SASL_USERNAME', key: 'kafka.sasl.username', note: 'turns SASL on', parse: text },
  { name: 'KAFKA_SASL_PASSWORD_FILE', key: 'kafka.sasl.passwordFile', parse: text },
  { name: 'KAFKA_SASL_PASSWORD', key: 'kafka.sasl.password', note: 'secret: read when a client connects, never stored in the config; wins over the file', parse: text, secret: true },
  { name: 'INFLUX_URL', key: 'sinks.influx.url', parse: text },
  { name: 'INFLUX_DATABASE', key: 'sinks.influx.database', parse: text },
  { name: 'INFLUX_USERNAME', key: 'sinks.influx.username', parse: text },
  { name: 'INFLUX_PASSWORD_FILE', key: 'sinks.influx.passwordFile', parse: text },
  { name: 'INFLUX_PASSWORD', key: 'sinks.influx.password', note: 'secret: read when a client connects, never stored in the config; wins over the file', parse: text, secret: true },
  { name: 'DIFFWATCH_REGISTRY_URL', key: 'ingest.registry.url', note: 'the Confluent-compatible API of a schema registry', parse: text },
  { name: 'DIFFWATCH_MODEL_STORE', key: 'scorer.diffusion.modelStore', note: 'where the models the service trains are kept', parse: text },
  { name: 'DIFFWATCH_MODEL_TOPIC', key: 'scorer.diffusion.modelTopic', note: 'the compacted topic the models trained here are shared through', parse: text },
  { name: 'DIFFWATCH_ROW_TOPIC', key: 'scorer.diffusion.rowTopic', note: 'the compacted topic of the rows collected towards cold starts and fine-tunes', parse: text },
  { name: 'DIFFWATCH_OPS_HTTP', key: 'ops.http', note: '`host:port` to serve /metrics, /healthz and /readyz there, port 0 for any free one; or `off`', parse: opsHttp },
  { name: 'DIFFWATCH_STACK_DIR', key: 'stack.dir', note: 'the local stack', parse: text },
  { name: 'KAFKA_PORT', key: 'stack.kafkaPort', note: 'the local stack', parse: portNumber('stack.kafkaPort'), keepEmpty: true },
  { name: 'KAFKA_CONTROLLER_PORT', key: 'stack.controllerPort', note: 'the local stack', parse: portNumber('stack.controllerPort'), keepEmpty: true },
  { name: 'INFLUX_PORT', key: 'stack.influxPort', note: 'the local stack', parse: portNumber('stack.influxPort'), keepEmpty: true },
];

/** The overrides the environment sets, as a partial config. */
export function envOverrides(env: NodeJS.ProcessEnv): Json {
  const out: Json = {};
  for (const o of ENV_OVERRIDES) {
    const raw = env[o.name];
    if (o.secret || raw === undefined || (raw === '' && !o.keepEmpty)) continue;
    const path = o.key.split('.');
    let at = out;
    for (const k of path.slice(0, -1)) at = (at[k] ??= {}) as Json;
    at[path[path.length - 1]] = o.parse(raw, o.name);
  }
  // A CA file alone means TLS: the file has no other use.
  const ssl = (out.kafka as Json | undefined)?.ssl as Json | undefined;
  if (ssl?.caFile !== undefined && ssl.enabled === undefined) ssl.enabled = true;
  return out;
}
