/**
 * The diffusion model's hyper-parameters: one record with defaults and units, validated once
 * and frozen (nanoGPT's `GPTConfig`; style principle 5). The CLI flags and the `model` section
 * of a config file only override these defaults; the resolved record is stored in every
 * checkpoint manifest, so a model says how it was trained.
 *
 * Example:
 *   const cfg = resolveModelConfig({ windowLength: 32, epochs: 5 });
 *   cfg.t0; // 30
 */
import { ConfigError } from '../errors.ts';
import type { NoiseScheduleKind } from './noiseSchedule.ts';
import type { StepStatistic } from './stillness.ts';

export interface ModelConfig {
  /** Noise schedule family. Cosine keeps more signal at small t than linear for the same T. */
  scheduleKind: NoiseScheduleKind;
  /** Diffusion steps T of the schedule. */
  T: number;
  /** Noise level scoring starts from, 0 ≤ t0 < T: high enough to wash out an anomaly, low enough to keep the window's shape. */
  t0: number;
  /** DDIM steps S from t0 back to x_0 when scoring; 1 is a one-shot x̂_0 prediction (fastest). */
  steps: number;
  /** Noise draws K averaged per scored window: more draws, less score noise, K× the cost. */
  draws: number;
  /** Window length L, in points. Must equal the stream's `stream.windowLength`. */
  windowLength: number;
  /** Hop between training windows, in points (1 = every window). */
  stride: number;
  /** Filters of every hidden conv of the denoiser. */
  width: number;
  /** Residual blocks of the denoiser. */
  depth: number;
  /** Taps of every hidden conv (odd keeps 'same' padding centred). */
  kernelSize: number;
  /** Size of the timestep embedding. */
  embedDim: number;
  /** Adam learning rate. */
  lr: number;
  /** Windows per training step. */
  batchSize: number;
  /** Epochs at most (early stopping may end sooner). */
  epochs: number;
  /** Epochs without a better validation loss tolerated before stopping; the best weights are kept. */
  patience: number;
  /** Share of the windows, taken from the END of the series (time order), held out for validation, in (0, 0.9]. */
  validationFraction: number;
  /**
   * Subtract each window's per-channel mean (after robust scaling) before the denoiser sees it.
   * Off by default: it hid level shifts in the measurement recorded in docs/model.md ("Normalization").
   */
  windowCentering: boolean;
  /**
   * Imputation models: centre the windows of the analogue channels whose level trends over the
   * rows given to training (levelTrend.ts), and only those, so that the net judges their shape at
   * levels the fit never reached; the other channels keep their levels. Only a fit that spans a
   * week is tested (imputationTraining.ts). Ignored with `windowCentering`, which centres every
   * analogue channel.
   */
  trendCentering: boolean;
  /**
   * Imputation models with trend-centred channels: also test each centred channel's window mean
   * against its trend and daily profile, fitted on the training rows (trendLevel.ts), so that a
   * step that outlasts the window stays evidence for as long as it lasts.
   */
  trendLevelTest: boolean;
  /**
   * How a window is scored. 'reconstruction': noise the whole window to t0 and denoise it, the
   * error is the evidence. 'imputation': generate the newest point from the window before it, K
   * times, and score the observed value by its predictive likelihood (imputation.ts).
   */
  scoring: 'reconstruction' | 'imputation';
  /** Imputation training: the longest newest-points target h, in points (h is drawn from 1…this). */
  imputeLength: number;
  /** Imputation training: share of windows whose target is the whole window (unconditional). */
  fullMaskRate: number;
  /** Imputation scoring: DDIM steps from T-1 to x_0. */
  imputeSteps: number;
  /** Imputation scoring: draws K whose spread is the predictive uncertainty. */
  imputeDraws: number;
  /** Imputation scoring: the smallest predictive std, in robust-scaled units. */
  sigmaFloor: number;
  /** Imputation: give the model the time of day and of the week of every point (calendar.ts). */
  calendar: boolean;
  /**
   * Imputation scoring: also generate the newest point with the whole window hidden (from the
   * calendar and the command channels alone) and keep, per channel, the larger of the two NLLs.
   * The context test finds a point that breaks the recent pattern; this one finds a stretch that
   * is wrong for the time of day (a level shift, a flatline, a missing cycle) after the context has
   * filled with it. Needs fullMaskRate > 0, so that the model learnt that question.
   */
  profileTest: boolean;
  /**
   * Profile test: the newest points whose standardised residuals z = (x − μ)/σ against the
   * whole-window draws are averaged, evidence ½·z̄². A stretch that is wrong for the time of day
   * moves every z the same way, so the mean keeps it, while the noise of one point is diluted;
   * 1 scores the newest point alone (its predictive NLL).
   */
  profileSpan: number;
  /**
   * Imputation scoring: how many standard deviations (of the log of the mean step, stillness.ts)
   * stiller than in training a channel must be before its stillness counts as evidence.
   */
  stillnessMargin: number;
  /**
   * Imputation scoring: make the too-still test two-sided, so that a channel moving far more than
   * in training (by the same margin) is evidence too (stillness.ts).
   */
  roughnessTest: boolean;
  /**
   * Imputation scoring: summarise a window's steps for the too-still test by their 'mean' or their
   * 'median' (stillness.ts): a sample-and-hold sensor's rare jumps lift the mean, not the median.
   */
  stillnessStep: StepStatistic;
  /**
   * Imputation scoring with `profileTest`: also score how widely the newest `profileSpan` points
   * scatter around the whole-window draws, ln mean z², calibrated on validation like z̄ and counted
   * only when larger than usual (profileCalibration.ts): a noise change moves z², not z̄.
   */
  dispersionTest: boolean;
  /**
   * Imputation scoring with `dispersionTest`: per channel, score ln mean |z| instead of ln mean z²
   * where it is the steadier statistic on the calibration windows (heavy-tailed residuals, where
   * one outlier dominates a mean of squares; profileCalibration.ts, chooseDispersion). Gaussian
   * residuals keep ln mean z². false: ln mean z² everywhere, as models before it.
   */
  robustDispersion: boolean;
  /**
   * Imputation scoring: turn the context test's NLL into a surprise against its own distribution
   * on the validation windows, −log P(NLL ≥ e) per target channel, before it meets the calibrated
   * profile, dispersion and too-still terms (imputationScorer.ts). false: the raw NLL.
   */
  contextCalibration: boolean;
  /**
   * Imputation scoring: weight, in draws, of each channel's pooled predictive variance beside the
   * K draws' own: σ² = (K·s² + ν·τ²)/(K + ν) + σ_min², τ² the mean of s² over the validation
   * windows. K = 4 draws give a variance that is itself noisy (its relative spread is about 0.8),
   * so the NLL of an ordinary point under a narrow draw can outrank a clear spike under a wide one;
   * the pooled term steadies σ while s² still widens it where the draws disagree. 0 (the default):
   * s² alone. Not shipped (docs/tuning-log.md, variant 28): it lifted the 3σ spike of the synthetic
   * layouts, whose noise is the same at every phase, and lowered NAB's tuning half, whose is not.
   */
  contextVariancePrior: number;
  /**
   * Imputation models with related analogue channels: also test each channel's newest value
   * against a least-squares fit on the other channels of its group at the same moment, where
   * they explain at least half its variance (partnerTest.ts). Channels that share a cause the
   * model does not see stay normal alone when one breaks away; its past predicts it loosely.
   */
  partnerTest: boolean;
  /**
   * Imputation models with several analogue channels: give each group of related channels a net
   * of its own (channelGroups.ts), so that no channel is predicted from channels it has nothing to
   * do with. false: one net over every channel read.
   */
  channelGroups: boolean;
  /**
   * With `channelGroups` and the calendar: give the calendar only to the groups with a daily
   * profile that holds from day to day (dailyProfile.ts); the others read none.
   */
  calendarPerGroup: boolean;
  /**
   * Imputation scoring with `profileTest`: count the profile and dispersion tests only where their
   * calibration can hold (profileScope.ts): for a net that reads a command; for one that reads the
   * calendar when the fit spans a week (a shorter fit never shows the weekly swing, and every
   * other day looks wrong); for a one-net model that reads neither, as a range test; never for
   * one group of several that reads neither (a wandering channel leaves its training range in
   * normal operation).
   */
  conditionedProfileOnly: boolean;
  /**
   * With `conditionedProfileOnly` and `dispersionTest`: a net read by the calendar alone over a fit
   * shorter than a week keeps the dispersion test, centred on the stretch's own mean residual,
   * ln mean (z − z̄)², where it loses the profile test. A short fit never shows the weekly swing,
   * which moves z̄ and, through it, an uncentred ln mean z²; a noise change moves the centred one
   * whatever the level (profileScope.ts).
   */
  shortFitDispersion: boolean;
  /**
   * Imputation scoring with `profileTest`: the windows the profile and dispersion tests' mean and
   * spread are fitted on. 'validation': the held-out windows, the last of the fit; 'fit': those and
   * up to 256 training windows spread over the whole fit, the spread never below
   * the validation windows' own. The validation windows alone cover a few phases of a cycle longer
   * than they are, and every other phase then looks wrong (heldOutCalibration.ts).
   */
  profileCalibrationSpan: 'validation' | 'fit';
  /**
   * Training: decay of an exponential moving average of the weights (weightAverage.ts), which is
   * what is validated, kept and scored with; 0 keeps the raw Adam iterate. The default 0.99 spans
   * about the last 100 steps once warmed up.
   */
  emaDecay: number;
  /** Seed of the weight initialisation, the shuffling and the training noise. */
  seed: number;
}

export const MODEL_DEFAULTS: Readonly<ModelConfig> = Object.freeze({
  scheduleKind: 'cosine',
  T: 100,
  t0: 30,
  steps: 1,
  draws: 4,
  windowLength: 64,
  stride: 1,
  width: 32,
  depth: 4,
  kernelSize: 3,
  embedDim: 32,
  lr: 2e-3,
  batchSize: 64,
  epochs: 20,
  patience: 3,
  validationFraction: 0.2,
  windowCentering: false,
  trendCentering: true,
  trendLevelTest: true,
  scoring: 'imputation',
  imputeLength: 1,
  fullMaskRate: 0.25,
  imputeSteps: 2,
  imputeDraws: 4,
  sigmaFloor: 0.05,
  calendar: true,
  profileTest: true,
  profileSpan: 16,
  stillnessMargin: 3,
  roughnessTest: true,
  stillnessStep: 'median',
  dispersionTest: true,
  robustDispersion: true,
  contextCalibration: true,
  contextVariancePrior: 0,
  partnerTest: true,
  channelGroups: true,
  calendarPerGroup: true,
  conditionedProfileOnly: true,
  shortFitDispersion: true,
  profileCalibrationSpan: 'fit',
  emaDecay: 0.99,
  seed: 0,
});

type Check = (v: unknown, cfg: ModelConfig) => string | null;

const int = (min: number, max = Number.MAX_SAFE_INTEGER): Check => (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? null : `must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}], got ${JSON.stringify(v)}`;

/** One check per key; a check may read other (already type-checked) keys. */
const CHECKS: Record<keyof ModelConfig, Check> = {
  scheduleKind: (v) => (v === 'cosine' || v === 'linear' ? null : `must be 'cosine' or 'linear', got ${JSON.stringify(v)}`),
  T: int(2, 100_000),
  t0: (v, c) => int(0, c.T - 1)(v, c),
  steps: (v, c) => int(1, c.t0 + 1)(v, c),
  draws: int(1, 256),
  windowLength: int(2, 100_000),
  stride: int(1),
  width: int(1, 4096),
  depth: int(1, 64),
  kernelSize: int(1, 64),
  embedDim: int(2, 4096),
  lr: (v) => (typeof v === 'number' && v > 0 && v < 1 ? null : `must be a learning rate in (0, 1), got ${JSON.stringify(v)}`),
  batchSize: int(1, 1 << 16),
  epochs: int(1, 100_000),
  patience: int(0),
  validationFraction: (v) => (typeof v === 'number' && v > 0 && v <= 0.9 ? null : `must lie in (0, 0.9], got ${JSON.stringify(v)}`),
  windowCentering: (v) => (typeof v === 'boolean' ? null : `must be true or false, got ${JSON.stringify(v)}`),
  trendCentering: (v) => (typeof v === 'boolean' ? null : `must be true or false, got ${JSON.stringify(v)}`),
  trendLevelTest: (v) => (typeof v === 'boolean' ? null : `must be true or false, got ${JSON.stringify(v)}`),
  scoring: (v) => (v === 'reconstruction' || v === 'imputation' ? null : `must be 'reconstruction' or 'imputation', got ${JSON.stringify(v)}`),
  imputeLength: int(1, 100_000),
  fullMaskRate: (v) => (typeof v === 'number' && v >= 0 && v <= 1 ? null : `must lie in [0, 1], got ${JSON.stringify(v)}`),
  imputeSteps: (v, c) => int(1, c.T)(v, c),
  imputeDraws: int(2, 256),
  sigmaFloor: (v) => (typeof v === 'number' && v > 0 && Number.isFinite(v) ? null : `must be a positive number, got ${JSON.stringify(v)}`),
  calendar: (v) => (typeof v === 'boolean' ? null : `must be true or false, got ${JSON.stringify(v)}`),
  profileTest: (v, c) => (typeof v !== 'boolean' ? `must be true or false, got ${JSON.stringify(v)}` : v && !(c.fullMaskRate > 0) ? 'needs fullMaskRate > 0: the model must be trained to generate a whole window' : null),
  // Scoring clips it to the points that reach the newest one (leftReach + 1), so any window length takes the default.
  profileSpan: int(1, 100_000),
  roughnessTest: (v) => (typeof v === 'boolean' ? null : `must be true or false, got ${JSON.stringify(v)}`),
  stillnessStep: (v) => (v === 'mean' || v === 'median' ? null : `must be 'mean' or 'median', got ${JSON.stringify(v)}`),
  dispersionTest: (v, c) => (typeof v !== 'boolean' ? `must be true or false, got ${JSON.stringify(v)}` : v && !c.profileTest ? 'needs profileTest: it is a statistic of the profile draws' : null),
  robustDispersion: (v) => (typeof v === 'boolean' ? null : `must be true or false, got ${JSON.stringify(v)}`),
  contextCalibration: (v) => (typeof v === 'boolean' ? null : `must be true or false, got ${JSON.stringify(v)}`),
  contextVariancePrior: (v) => (typeof v === 'number' && v >= 0 && Number.isFinite(v) ? null : `must be a number ≥ 0, got ${JSON.stringify(v)}`),
  partnerTest: (v) => (typeof v === 'boolean' ? null : `must be true or false, got ${JSON.stringify(v)}`),
  channelGroups: (v) => (typeof v === 'boolean' ? null : `must be true or false, got ${JSON.stringify(v)}`),
  conditionedProfileOnly: (v) => (typeof v === 'boolean' ? null : `must be true or false, got ${JSON.stringify(v)}`),
  shortFitDispersion: (v) => (typeof v === 'boolean' ? null : `must be true or false, got ${JSON.stringify(v)}`),
  profileCalibrationSpan: (v) => (v === 'validation' || v === 'fit' ? null : `must be "validation" or "fit", got ${JSON.stringify(v)}`),
  calendarPerGroup: (v) => (typeof v === 'boolean' ? null : `must be true or false, got ${JSON.stringify(v)}`),
  stillnessMargin: (v) => (typeof v === 'number' && v >= 0 && Number.isFinite(v) ? null : `must be a number ≥ 0, got ${JSON.stringify(v)}`),
  emaDecay: (v) => (typeof v === 'number' && v >= 0 && v < 1 ? null : `must lie in [0, 1), got ${JSON.stringify(v)}`),
  seed: int(0, 2 ** 32 - 1),
};

export const MODEL_CONFIG_KEYS = Object.keys(CHECKS) as (keyof ModelConfig)[];

/**
 * Defaults ← overrides, validated and frozen. Throws `ConfigError` naming `model.<key>` and
 * the allowed range; unknown keys are rejected with the list of known ones.
 */
export function resolveModelConfig(overrides: Partial<ModelConfig> | Record<string, unknown> = {}): Readonly<ModelConfig> {
  for (const k of Object.keys(overrides)) {
    if (!(k in CHECKS)) throw new ConfigError(`model.${k}`, `unknown key. Known keys: ${MODEL_CONFIG_KEYS.join(', ')}`);
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const cfg = { ...MODEL_DEFAULTS, ...defined } as ModelConfig;
  // Keys are checked in declaration order, so T is valid before t0 is checked against it.
  for (const key of MODEL_CONFIG_KEYS) {
    const why = CHECKS[key](cfg[key], cfg);
    if (why) throw new ConfigError(`model.${key}`, why);
  }
  return Object.freeze(cfg);
}
