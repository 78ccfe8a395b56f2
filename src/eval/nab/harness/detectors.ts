/**
 * The registry of NAB detectors: name → factory. A new detector (the diffusion model, once it
 * trains on a file's probationary rows) is one entry here; see `types.ts` for the contract.
 */
import { ConfigError } from '../../../errors.ts';
import { baselineDetector } from './baselineDetector.ts';
import { windowedGaussianDetector } from './classicDetector.ts';
import { diffusionDetector } from './diffusionDetector.ts';
import { oneLineDetector } from './oneLineDetector.ts';
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
