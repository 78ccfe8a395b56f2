/**
 * The registry of NAB detectors: name → factory. A new detector (the diffusion model, once it
 * trains on a file's probationary rows) is one entry here; see `types.ts` for the contract.
 */
import { ConfigError } from '../../../errors.ts';
import { baselineDetector } from './baselineDetector.ts';
import { windowedGaussianDetector } from './classicDetector.ts';
import { diffusionDetector, type OnsetOverrides } from './diffusionDetector.ts';
import type { OnlineFineTune } from './onlineScorer.ts';
import { oneLineDetector } from './oneLineDetector.ts';
import type { ModelConfig } from '../../../model/modelConfig.ts';
import type { NabDetector } from './types.ts';

export type { FileContext, FileDetector, Judge, Judgement, NabDetector } from './types.ts';

/** Detector name → factory with the detector's default knobs. */
export const DETECTORS: Readonly<Record<string, () => NabDetector>> = {
  baseline: () => baselineDetector(),
  baselineRaw: () => baselineDetector({ calibrated: false }),
  windowedGaussian: () => windowedGaussianDetector(),
  diffusion: () => diffusionDetector(),
  oneLine: () => oneLineDetector(),
};

/**
 * The registry with the diffusion detector's model overridden (`--model '{"scoring":"imputation"}'`):
 * how a variant is compared on the tuning half and the synthetic suite without editing the defaults.
 */
export function detectorRegistry(model: Partial<Omit<ModelConfig, 'seed'>> | undefined, onset?: OnsetOverrides, fineTune?: OnlineFineTune | null): Readonly<Record<string, () => NabDetector>> {
  if (model === undefined && onset === undefined && fineTune === undefined) return DETECTORS;
  return { ...DETECTORS, diffusion: () => diffusionDetector({ model, onset, ...(fineTune !== undefined ? { fineTune } : {}) }) };
}

/**
 * `--fine-tune <json>`: the diffusion detector's online fine-tuning (onlineScorer.ts), e.g.
 * '{"everyRows":1000,"recentRows":4000,"epochs":3}', or 'null' for none.
 */
export function parseFineTuneFlag(text: string | undefined): OnlineFineTune | null | undefined {
  if (text === undefined) return undefined;
  const o = jsonObjectFlag('--fine-tune', 'must be a JSON object {"everyRows", "recentRows", "epochs"} or null', text, { allowNull: true });
  if (o === null) return null;
  for (const key of Object.keys(o)) if (!['everyRows', 'recentRows', 'epochs'].includes(key)) throw new ConfigError(`--fine-tune.${key}`, 'unknown key; known: everyRows, recentRows, epochs');
  for (const key of ['everyRows', 'recentRows', 'epochs']) {
    const x = o[key];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1) throw new ConfigError(`--fine-tune.${key}`, `must be an integer ≥ 1, got ${JSON.stringify(x)}`);
  }
  return o as unknown as OnlineFineTune;
}

/**
 * `--onset <json>`: overrides of the diffusion detector's onset judge (nested sections merged),
 * e.g. '{"levelShift":{"weight":0}}': how a judge part is ablated on the tuning half.
 */
export function parseOnsetFlag(text: string | undefined): OnsetOverrides | undefined {
  if (text === undefined) return undefined;
  return jsonObjectFlag('--onset', 'must be a JSON object of onset-judge settings', text, { example: `'{"noveltyBonus":0}'` }) as OnsetOverrides;
}

/** `--model <json>`: a JSON object of model-config overrides; keys and values are checked when the detector is built. */
export function parseModelFlag(text: string | undefined): Partial<Omit<ModelConfig, 'seed'>> | undefined {
  if (text === undefined) return undefined;
  const v = jsonObjectFlag('--model', 'must be a JSON object of model settings', text, { example: `'{"scoring":"imputation"}'` });
  if ('seed' in v) throw new ConfigError('--model', 'seed comes from --seed, not from --model');
  return v as Partial<Omit<ModelConfig, 'seed'>>;
}

/**
 * A flag's JSON object (or null, with `allowNull`); a ConfigError naming the flag otherwise:
 * `${what}, e.g. ${example}: <parse error>` when it is not JSON, `${what}, got <text>` when it is
 * not an object.
 */
function jsonObjectFlag(flag: string, what: string, text: string, opts: { example?: string; allowNull: true }): Record<string, unknown> | null;
function jsonObjectFlag(flag: string, what: string, text: string, opts?: { example?: string; allowNull?: false }): Record<string, unknown>;
function jsonObjectFlag(flag: string, what: string, text: string, opts: { example?: string; allowNull?: boolean } = {}): Record<string, unknown> | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(flag, `${what}${opts.example ? `, e.g. ${opts.example}` : ''}: ${(e as Error).message}`);
  }
  if (v === null && opts.allowNull) return null;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(flag, `${what}, got ${text}`);
  return v as Record<string, unknown>;
}

export const DEFAULT_DETECTORS = ['baseline', 'windowedGaussian'] as const;

/**
 * Resolves a comma-separated list such as `baseline,windowedGaussian`.
 * @throws ConfigError naming the unknown detector and the known ones.
 */
export function resolveDetectors(list: string, registry: Readonly<Record<string, () => NabDetector>> = DETECTORS): NabDetector[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new ConfigError('--detectors', `is empty; choose from ${Object.keys(registry).join(', ')}`);
  const seen = new Set<string>();
  return names.map((name) => {
    const make = registry[name];
    if (!make) throw new ConfigError('--detectors', `unknown detector "${name}"; known: ${Object.keys(registry).join(', ')}`);
    if (seen.has(name)) throw new ConfigError('--detectors', `"${name}" is listed twice`);
    seen.add(name);
    return make();
  });
}
