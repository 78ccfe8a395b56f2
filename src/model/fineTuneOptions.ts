/**
 * The settings of a fine-tune (`FineTuneOptions`) and their check, apart from fineTune.ts so
 * that a thread that only starts fine-tunes (modelOps/backgroundTrainer.ts) can validate them
 * without loading TF.js (about 100 MB and 0.8 s), which it otherwise never needs. No tf import.
 *
 * Example:
 *   checkFineTuneOptions({ epochs: 2, refitNormalization: false });  // ok
 *   checkFineTuneOptions({ epoch: 2 });  // ConfigError: fineTune.epoch: unknown key. Known keys: ...
 */
import { ConfigError } from '../errors.ts';
import { resolveModelConfig } from './modelConfig.ts';

/** Settings of `fineTune` (fineTune.ts), which re-exports the type. */
export interface FineTuneOptions {
  /** Epochs at most. Default 3: the parent already fits the kind of data; a few passes adapt it. */
  epochs?: number;
  /** Epochs without a better validation loss tolerated. Default: the parent's. */
  patience?: number;
  /**
   * Adam learning rate. Default: the parent's lr / 4. Why lower: Adam's first steps move every
   * weight by about lr whatever its gradient (the update is normalised by the gradient's own
   * size), and the optimizer state is not stored with the parent, so a fresh Adam at the full
   * rate would knock the weights out of the minimum they were trained into and forget the
   * parent's data before it adapts to the new one.
   */
  lr?: number;
  /** Windows per step. Default: the parent's. */
  batchSize?: number;
  /** Share of the new windows held out for validation. Default: the parent's. */
  validationFraction?: number;
  /** Seed of the shuffling and the training noise. Default: the parent's. */
  seed?: number;
  /** Refit the robust per-channel scaler on the new series (true, default) or keep the parent's (false). */
  refitNormalization?: boolean;
}

const FINE_TUNE_CONFIG_KEYS = ['epochs', 'patience', 'lr', 'batchSize', 'validationFraction', 'seed'] as const;

/**
 * Check fine-tuning options on their own (no parent needed), so that a bad value fails before a
 * worker starts. Throws `ConfigError` naming `fineTune.<key>`. `fineTune` runs the same check.
 */
export function checkFineTuneOptions(opts: FineTuneOptions): void {
  const known = new Set<string>([...FINE_TUNE_CONFIG_KEYS, 'refitNormalization']);
  for (const key of Object.keys(opts)) {
    if (!known.has(key)) throw new ConfigError(`fineTune.${key}`, `unknown key. Known keys: ${[...known].join(', ')}`);
  }
  if (opts.refitNormalization !== undefined && typeof opts.refitNormalization !== 'boolean') {
    throw new ConfigError('fineTune.refitNormalization', `must be true or false, got ${JSON.stringify(opts.refitNormalization)}`);
  }
  // These keys' ranges depend on no other key, so checking each alone against the defaults is exact.
  for (const key of FINE_TUNE_CONFIG_KEYS) {
    if (opts[key] === undefined) continue;
    try {
      resolveModelConfig({ [key]: opts[key] });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      throw new ConfigError(`fineTune.${key}`, e.message.slice(e.message.indexOf(': ') + 2));
    }
  }
}
