/**
 * Load the configuration: defaults ← config file ← overrides ← environment, validated once by
 * the schema (schema.ts), then frozen. A wrong key, type or range throws ConfigError naming the
 * full key, what was expected and what was given (configIssues.ts).
 *
 * @example
 * const config = loadConfig({ file: 'config/diffwatch.json' }); // env: process.env
 * config.kafka.sessionTimeoutMs; // 30000
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import { configErrorMap, configErrorOf } from './configIssues.ts';
import { envOverrides } from './envOverrides.ts';
import { configSchema, type DiffwatchConfig } from './schema.ts';

export { envOverrides, ENV_OVERRIDES } from './envOverrides.ts';

type Json = Record<string, unknown>;

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Deep-merge `over` into `base`: objects merge key by key, arrays and scalars replace. Keys are
 * not checked here; the schema refuses unknown ones, with the closest known key.
 */
export function mergeConfig(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = base[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? mergeConfig(b, v) : v;
  }
  return out;
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

/** Validates a config's overrides against the schema and fills in the defaults, without freezing. */
export function parseConfig(input: Json): DiffwatchConfig {
  const result = configSchema.safeParse(input, { error: configErrorMap, reportInput: true });
  if (!result.success) throw configErrorOf(result.error.issues);
  return result.data;
}

export function loadConfig(opts: LoadOptions = {}): Readonly<DiffwatchConfig> {
  let input: Json = opts.file ? readConfigFile(opts.file) : {};
  if (opts.overrides) input = mergeConfig(input, opts.overrides);
  input = mergeConfig(input, envOverrides(opts.env ?? process.env));
  return deepFreeze(parseConfig(input));
}
