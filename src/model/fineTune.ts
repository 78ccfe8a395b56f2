/**
 * Fine-tuning a trained model on a newer stretch of one series `[N, C]`: the same architecture,
 * schedule, window length, channels and scoring settings (t0, S, K, scoring noise), starting from
 * a COPY of the parent's weights. The parent is neither changed nor disposed, so it can keep
 * scoring until the new version is swapped in.
 *
 *   1. resolve the settings: the parent's training config, overridden by `FineTuneOptions`
 *   2. split the new series in time order, as `train` does
 *   3. refit the robust scaler on the new training rows (default), or keep the parent's
 *   4. a fresh Adam at a lower lr, from the parent's weights; the starting weights count as
 *      epoch 0, so the result never has a higher validation loss than the parent on this data
 *   5. manifest: `parent` = the parent's version, the new training data, losses and validation
 *      score quantiles, and a content-hash `version` of its own
 *
 * Why refit by default: after a level shift, or on another entity of the same kind, the parent's
 * statistics put the new normal off-centre, and the net then sees windows it never learnt. With
 * a refitted scaler the input is centred on the new normal, and the epochs only have to adapt
 * the shape, not the level.
 *
 * Same seed, same parent, same series, same backend → the same weights and version.
 *
 * Example:
 *   const next = await fineTune(current, recent, { epochs: 3 });
 *   await saveCheckpoint(`models/${entity}/${next.manifest.version}`, next);
 */
import { ModelError } from '../errors.ts';
import { modelVersion, type TrainedModel } from './checkpoint.ts';
import { Denoiser } from './denoiser.ts';
import { checkFineTuneOptions, type FineTuneOptions } from './fineTuneOptions.ts';
import { resolveModelConfig, type ModelConfig } from './modelConfig.ts';
import { imputationScaler, trainingObjective } from './imputationTraining.ts';
import { assembleModel, fitLoop, prepareSeries, registerTransposeFreeMatMulGradient, type TrainHooks, type TrainSeries } from './trainer.ts';

export type { FineTuneOptions } from './fineTuneOptions.ts';

// The defaults' reasons are on FineTuneOptions.
const DEFAULT_EPOCHS = 3;
const LR_DIVISOR = 4;

/** The parent's training config with the fine-tune's overrides; scoring-related keys stay the parent's. */
export function fineTuneConfig(base: TrainedModel, opts: FineTuneOptions): Readonly<ModelConfig> {
  checkFineTuneOptions(opts);
  const parent = base.manifest.training;
  const { t0, steps, draws, normalization } = base.manifest;
  return resolveModelConfig({
    ...parent,
    // The manifest's fields are what the parent scores with; the config must agree with them.
    t0,
    steps,
    draws,
    windowCentering: normalization.windowCentering,
    epochs: opts.epochs ?? DEFAULT_EPOCHS,
    patience: opts.patience ?? parent.patience,
    lr: opts.lr ?? parent.lr / LR_DIVISOR,
    batchSize: opts.batchSize ?? parent.batchSize,
    validationFraction: opts.validationFraction ?? parent.validationFraction,
    seed: opts.seed ?? base.manifest.seed,
  });
}

function checkChannels(base: TrainedModel, series: TrainSeries): void {
  const want = base.manifest.channels;
  if (series.channels.length !== want.length || series.channels.some((c, i) => c !== want[i])) {
    throw new ModelError('MODEL_MISMATCH', `fine-tuning model ${base.manifest.version || '(unsaved)'} trained on channels [${want.join(', ')}] with a series of [${series.channels.join(', ')}]; pass the channels in the model's order`, { expected: [...want], actual: [...series.channels] });
  }
}

/** A new denoiser of the parent's architecture holding copies of its weights (the parent keeps its own). */
function copyDenoiser(base: TrainedModel): Denoiser {
  const net = new Denoiser(base.manifest.denoiser);
  // `assign` gives each variable its own reference to the data; Adam's updates then replace the
  // copy's data, never the parent's.
  net.setWeights(base.denoiser.getWeights());
  return net;
}

/** Fine-tune `base` on `series`; resolves with a new model whose manifest names `base` as its parent. */
export async function fineTune(base: TrainedModel, series: TrainSeries, opts: FineTuneOptions = {}, hooks: TrainHooks = {}): Promise<TrainedModel> {
  const cfg = fineTuneConfig(base, opts);
  checkChannels(base, series);
  registerTransposeFreeMatMulGradient();
  const parent = base.manifest.version || (await modelVersion(base));
  const refit = opts.refitNormalization ?? true;
  const { windowCentering: _drop, ...parentScaler } = base.manifest.normalization;
  const { imputation } = base.manifest;
  // An imputation model keeps its parent's channel roles; only the statistics are refitted.
  const refitted = refit && imputation ? imputationScaler(series, cfg, imputation) : undefined;
  const data = prepareSeries(series, cfg, refit ? refitted : parentScaler, imputation);
  const net = copyDenoiser(base);
  try {
    const fit = await fitLoop(net, base.diffusion, cfg, data, hooks, { keepStart: true, objective: trainingObjective(cfg, imputation) });
    const { t0, steps, draws, scoreSeed } = base.manifest;
    return await assembleModel(net, series, cfg, data, fit, { t0, steps, draws, scoreSeed, parent, imputation });
  } catch (e) {
    net.dispose();
    throw e;
  }
}
