/**
 * Load the configuration: defaults ← config file ← environment, validated once, then frozen.
 * A bad value throws ConfigError naming the key and how to fix it.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import { DEFAULTS, type DiffwatchConfig } from './schema.ts';
import { validateConfig } from './validateConfig.ts';

type Json = Record<string, unknown>;

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merge `over` into `base`; arrays and scalars replace. Unknown keys are reported. */
export function mergeConfig(base: Json, over: Json, path = ''): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const key = path ? `${path}.${k}` : k;
    if (!(k in base)) throw new ConfigError(key, `unknown key. Known keys here: ${Object.keys(base).join(', ')}`);
    const b = base[k];
    // Record-typed sections (formats, schemaIds) are open maps, not fixed shapes.
    const openMap = isPlainObject(b) && Object.keys(b).length === 0;
    if (isPlainObject(b) && isPlainObject(v) && !openMap) out[k] = mergeConfig(b, v, key);
    else out[k] = v;
  }
  return out;
}

const csv = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

/** Deployment settings that may come from the environment. */
export function envOverrides(env: NodeJS.ProcessEnv): Json {
  const o: Record<string, Json> = {};
  const set = (section: string, key: string, value: unknown) => {
    o[section] ??= {};
    o[section][key] = value;
  };
  if (env.KAFKA_BROKERS) set('kafka', 'brokers', csv(env.KAFKA_BROKERS));
  if (env.DIFFWATCH_GROUP_ID) set('kafka', 'groupId', env.DIFFWATCH_GROUP_ID);
  if (env.DIFFWATCH_TOPICS) set('kafka', 'topics', csv(env.DIFFWATCH_TOPICS));
  if (env.DIFFWATCH_LOG_LEVEL) set('log', 'level', env.DIFFWATCH_LOG_LEVEL);
  if (env.DIFFWATCH_STATE_TOPIC) set('detect', 'stateTopic', env.DIFFWATCH_STATE_TOPIC);
  if (env.INFLUX_URL || env.INFLUX_DATABASE) {
    const influx: Json = {};
    if (env.INFLUX_URL) influx.url = env.INFLUX_URL;
    if (env.INFLUX_DATABASE) influx.database = env.INFLUX_DATABASE;
    set('sinks', 'influx', influx);
  }
  if (env.DIFFWATCH_MODEL_STORE) set('scorer', 'diffusion', { modelStore: env.DIFFWATCH_MODEL_STORE });
  if (env.DIFFWATCH_STACK_DIR) set('stack', 'dir', env.DIFFWATCH_STACK_DIR);
  for (const [envKey, key] of [['KAFKA_PORT', 'kafkaPort'], ['KAFKA_CONTROLLER_PORT', 'controllerPort'], ['INFLUX_PORT', 'influxPort']] as const) {
    const raw = env[envKey];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new ConfigError(`stack.${key}`, `environment variable ${envKey}=${JSON.stringify(raw)} is not an integer port`);
    set('stack', key, n);
  }
  return o;
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

export interface LoadOptions {
  /** Path of a JSON config file. */
  file?: string;
  /** Extra overrides applied after the file and before the environment (tests, CLI flags). */
  overrides?: Json;
  env?: NodeJS.ProcessEnv;
}

export function readConfigFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('(file)', `cannot read config file ${file}: ${(e as Error).message}. Pass an existing file with --config.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('(file)', `${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw new ConfigError('(file)', `${file} must hold a JSON object`);
  return parsed;
}

export function loadConfig(opts: LoadOptions = {}): Readonly<DiffwatchConfig> {
  let merged = structuredClone(DEFAULTS) as unknown as Json;
  if (opts.file) merged = mergeConfig(merged, readConfigFile(opts.file));
  if (opts.overrides) merged = mergeConfig(merged, opts.overrides);
  merged = mergeConfig(merged, envOverrides(opts.env ?? process.env));
  const config = merged as unknown as DiffwatchConfig;
  validateConfig(config);
  return deepFreeze(config);
}
