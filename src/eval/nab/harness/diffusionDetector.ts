/**
 * The diffusion model as a NAB detector. For each file, `open` trains a fresh model on the
 * file's probationary rows only (`ctx.training`, seeded from `ctx.seed`), then the harness
 * replays the whole file through the service's stream operators into a scorer that calls
 * `scoreWindows`, the one scoring path of the model (docs/model.md). Each scored window is
 * judged by the service's detector itself (`detect/detector.ts` with `detect.judge: "onset"`,
 * through `detectorJudge.ts`): the onset scorer (`detect/onsetScorer.ts`) ranks the model's
 * error among the file's past errors, adds a bonus when the value leaves the range seen so far,
 * and gates one loud window per excursion; the alert lifecycle opens the alerts. The service's detector state (`detect/thresholdState.ts`, the likelihood and SPOT)
 * remains available as `judge: 'thresholdState'`, the judge of the first version.
 *
 * One configuration for every file (`NAB_DIFFUSION_MODEL`), sized so that the 58-file corpus
 * trains and scores in under 30 minutes on 2 cores; see docs/evaluation.md, "Diffusion detector".
 *
 * @example
 *   const d = diffusionDetector();                  // or DETECTORS.diffusion()
 *   const fd = await d.open(ctx);                   // trains on ctx.training
 *   const r = await scoreReplay(series, fd, { entityId: ctx.path, windowLength: d.windowLength });
 *   await fd.close();                               // frees the weights
 */
import { CALIBRATION_DEFAULTS } from '../../../detect/calibration.ts';
import { ONSET_SCORER_DEFAULTS, type OnsetScorerConfig } from '../../../detect/onsetScorer.ts';
import { THRESHOLD_STATE_DEFAULTS, type ThresholdStateConfig } from '../../../detect/thresholdState.ts';
import { ConfigError, ModelError, type ModelErrorCode } from '../../../errors.ts';
import { rootLogger } from '../../../log.ts';
import { initBackend, type BackendName, type BackendPreference } from '../../../model/backend.ts';
import type { TrainedModel } from '../../../model/checkpoint.ts';
import type { ConvImpl } from '../../../model/denoiser.ts';
import { resolveModelConfig, type ModelConfig } from '../../../model/modelConfig.ts';
import { train } from '../../../model/trainer.ts';
import { lifecycleAlertRule } from './alertRule.ts';
import { detectorJudge, onsetDetectConfig } from './detectorJudge.ts';
import { flatParams } from './flatParams.ts';
import { createOnlineScorer, type OnlineFineTune } from './onlineScorer.ts';
import { thresholdStateJudge } from './thresholdStateJudge.ts';
import type { FileContext, FileDetector, NabDetector } from './types.ts';

/**
 * The model every NAB file gets. Measured on the 2-core development machine (wasm, two runs
 * side by side): training took a median of 8.5 s per file (at most 30 s), and scoring ran at
 * about 2,400 windows/s with `tf.conv1d`.
 * - windowLength 32: the probe of docs/evaluation.md; NAB's smallest probationary period (169
 *   rows) still gives over 100 training windows.
 * - width 32, depth 3: dilations 1, 2, 4 see 2 + 4·7 + 1 = 31 points, one window.
 * - epochs 60, patience 10 (docs/tuning-log.md, variant 18): under 30 / 5 the validation loss
 *   still fell at epoch 20–29; given room, the best epoch's median was 24–28 and 6–9 of the 31
 *   tuning-half files used all 60. Affordable since training runs the backend's conv kernel.
 * - t0 30, steps 1, draws 4: the service defaults, which the probe used.
 */
export const NAB_DIFFUSION_MODEL: Readonly<Partial<ModelConfig>> = Object.freeze({
  windowLength: 32,
  width: 32,
  depth: 3,
  epochs: 60,
  patience: 10,
  t0: 30,
  steps: 1,
  draws: 4,
});

/**
 * The detector-state settings that differ from the service's defaults: a short-term mean of
 * ONE score. Numenta averages 10 raw scores because HTM's are noisy near-binary values; the
 * model's error is already a graded per-point score, and averaging it over 10 windows diluted a
 * one-point spike below ordinary fluctuations (the spike test of diffusionDetector.test.ts).
 */
export const NAB_DIFFUSION_THRESHOLDS: Readonly<Partial<ThresholdStateConfig>> = Object.freeze({
  calibration: { ...CALIBRATION_DEFAULTS, shortWindow: 1 },
});

/**
 * The onset scorer every NAB file gets: `ONSET_SCORER_DEFAULTS`, which were chosen on NAB (see
 * docs/evaluation.md, "Tuning disclosure", for what was swept and how).
 */
export const NAB_DIFFUSION_ONSET: Readonly<OnsetScorerConfig> = ONSET_SCORER_DEFAULTS;

/** Online fine-tuning of every NAB file's model: none (the model trained on the probationary rows scores the whole file). */
export const NAB_DIFFUSION_FINE_TUNE: Readonly<OnlineFineTune> | null = null;

export type DiffusionJudgeKind = 'onset' | 'thresholdState';

export interface DiffusionDetectorOptions {
  /** Default `diffusion`. */
  name?: string;
  /** Overrides of `NAB_DIFFUSION_MODEL` (itself over `MODEL_DEFAULTS`); `seed` always comes from the run. */
  model?: Partial<Omit<ModelConfig, 'seed'>>;
  /** How window scores become NAB scores and alerts. Default 'onset': the service's detector with `detect.judge: "onset"` (`detectorJudge.ts`). */
  judge?: DiffusionJudgeKind;
  /** 'onset' only: overrides of `NAB_DIFFUSION_ONSET` (nested sections are merged). */
  onset?: OnsetOverrides;
  /** 'thresholdState' only: overrides of the service's detector-state defaults. Default `NAB_DIFFUSION_THRESHOLDS`. */
  thresholds?: Partial<ThresholdStateConfig>;
  /** TF.js backend. Default 'wasm': the backend the corpus budget was measured on, on every machine. */
  backend?: BackendPreference;
  /**
   * Convolution form for scoring (training uses the denoiser's default, 'conv1d'). Default
   * 'conv1d': it scored 2,400 windows/s here against 800–1,200 for the unfold form, with equal scores.
   */
  conv?: ConvImpl;
  /** Fine-tune the model as the stream goes on, as the service does (onlineScorer.ts); null: never. Default `NAB_DIFFUSION_FINE_TUNE`. */
  fineTune?: OnlineFineTune | null;
}

let backendReady: Promise<BackendName> | null = null;

/** Initialised once per process: every file's model shares the backend. */
function ensureBackend(pref: BackendPreference): Promise<BackendName> {
  backendReady ??= initBackend(pref, rootLogger.namespace('nab')).then((c) => c.name);
  return backendReady;
}

export function diffusionDetector(opts: DiffusionDetectorOptions = {}): NabDetector {
  const name = opts.name ?? 'diffusion';
  // Resolved once so that a bad override fails before the first file, naming the key.
  const modelConfig = resolveModelConfig({ ...NAB_DIFFUSION_MODEL, ...opts.model });
  const { seed: _runSeed, ...modelParams } = modelConfig;
  const judgeKind = opts.judge ?? 'onset';
  if (judgeKind !== 'onset' && judgeKind !== 'thresholdState') throw new ConfigError('judge', `must be 'onset' or 'thresholdState', got ${JSON.stringify(judgeKind)}`);
  const onset = mergeOnset(NAB_DIFFUSION_ONSET, opts.onset);
  const thresholds = opts.thresholds ?? NAB_DIFFUSION_THRESHOLDS;
  const backend = opts.backend ?? 'wasm';
  const conv = opts.conv ?? 'conv1d';
  const tune = opts.fineTune === undefined ? NAB_DIFFUSION_FINE_TUNE : opts.fineTune;
  const log = rootLogger.namespace('nab').namespace(name);
  return {
    name,
    summary: `the diffusion model (window ${modelConfig.windowLength}, ${modelConfig.depth}×${modelConfig.width} filters) trained on each file's probationary rows, ` +
      (tune ? `fine-tuned after every ${tune.everyRows} rows on the newest ${tune.recentRows}, ` : '') +
      (judgeKind === 'onset' ? 'judged by the service\'s onset scorer (error rank, range novelty, onset gate)' : 'calibrated by the service\'s detector state'),
    windowLength: modelConfig.windowLength,
    params: {
      ...flatParams(modelParams, 'model.'),
      'model.seed': 'run seed + 1',
      backend,
      conv,
      ...(tune ? flatParams(tune, 'fineTune.') : {}),
      judge: judgeKind,
      ...(judgeKind === 'onset'
        ? { ...flatParams(onset, 'onset.'), anomalyScore: 'gated / (gated + half)' }
        : { ...flatParams({ ...THRESHOLD_STATE_DEFAULTS, ...thresholds }), prior: 'validationScores', anomalyScore: 'boundedSurprise(surprise)' }),
    },
    async open(ctx: FileContext): Promise<FileDetector> {
      await ensureBackend(backend);
      const started = performance.now();
      const model = await trainOn(ctx, modelConfig);
      model.denoiser.convImpl = conv;
      const { version, losses, validationScores } = model.manifest;
      log.debug('trained', { path: ctx.path, rows: ctx.training.timestamps.length, version, epochs: losses.train.length, bestEpoch: losses.bestEpoch, trainMs: Math.round(performance.now() - started) });
      const scorer = createOnlineScorer(model, tune ?? undefined);
      // No fixed levels: an alert opens only on the levels the judge brings (the onset gate's, or SPOT's).
      const judge =
        judgeKind === 'onset'
          ? detectorJudge(onsetDetectConfig(onset), version)
          : thresholdStateJudge(thresholds, lifecycleAlertRule({ threshold: Number.POSITIVE_INFINITY, keepLevel: Number.POSITIVE_INFINITY, kind: name, modelVersion: version }), validationScores);
      return {
        scorer,
        judge,
        alertThreshold: Number.NaN,
        close: async () => {
          if (scorer.fineTunes() > 0) log.debug('fine-tuned', { path: ctx.path, fineTunes: scorer.fineTunes(), version: scorer.live().manifest.version });
          scorer.dispose();
        },
      };
    },
  };
}

/**
 * The model seed for a run seed: never 0. Why: TF.js draws from `Math.random()` when a random
 * op's seed is 0 (`seed ? seed : Math.random()` in tfjs-core `ops/rand_util.ts`), and the
 * denoiser seeds its first weight with `seed · 1009 + 0`, so seed 0 would give a different model,
 * and different scores, on every run.
 */
export const modelSeed = (runSeed: number): number => (runSeed % 0xffffffff) + 1;

/** Trains on `ctx.training` alone; a failure names the NAB file it happened on. */
async function trainOn(ctx: FileContext, cfg: Readonly<ModelConfig>): Promise<TrainedModel> {
  const { values, channels, timestamps } = ctx.training;
  try {
    return await train({ values, channels: [...channels], timestamps }, { ...cfg, seed: modelSeed(ctx.seed) });
  } catch (err) {
    if (!(err instanceof ModelError)) throw err;
    throw new ModelError(err.code as ModelErrorCode, `${ctx.path}: ${err.message}`, { ...err.coords, entityId: ctx.path, probationaryRows: ctx.probationaryRows });
  }
}

/** Overrides of an onset scorer config; the nested sections may be partial. */
export type OnsetOverrides = Partial<Omit<OnsetScorerConfig, 'tailRank' | 'rangeNovelty' | 'levelShift' | 'gate'>> & {
  tailRank?: Partial<OnsetScorerConfig['tailRank']>;
  rangeNovelty?: Partial<OnsetScorerConfig['rangeNovelty']>;
  levelShift?: Partial<OnsetScorerConfig['levelShift']>;
  gate?: Partial<OnsetScorerConfig['gate']>;
};

export function mergeOnset(base: Readonly<OnsetScorerConfig>, o: OnsetOverrides = {}): OnsetScorerConfig {
  return { ...base, ...o, tailRank: { ...base.tailRank, ...o.tailRank }, rangeNovelty: { ...base.rangeNovelty, ...o.rangeNovelty }, levelShift: { ...base.levelShift, ...o.levelShift }, gate: { ...base.gate, ...o.gate } };
}
