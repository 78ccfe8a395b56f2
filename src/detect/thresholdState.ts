/**
 * The detector state of one entity: warm-up, an adaptive threshold (SPOT, DSPOT, or fixed),
 * the calibrated likelihood, and hysteresis. An incident opens when a score is above the open
 * level (z_q) and stays open while scores stay above the lower keep level (SPOT's initial
 * threshold t, or a fraction of z_q), so one excursion is one incident, not a flicker.
 *
 * Each model version gets a state of its own (`carryOpenIncident`): a fine-tune or a new normal
 * can move the raw scale several-fold, and levels learned from the previous version's scores can
 * sit far above all of the new ones, so that the version is never judged at all. An incident open
 * at the swap is carried: until the new state has warmed up, the previous levels keep it open or
 * let it resolve, and nothing new opens.
 *
 * The state is plain data: `snapshot()` gives JSON that `ThresholdState.restore` turns back
 * into a detector that makes exactly the same decisions (for a compacted Kafka topic).
 */
import { ConfigError, DiffwatchError } from '../errors.ts';
import { Calibration, CALIBRATION_DEFAULTS, likelihoodOf, logLikelihoodOf, surpriseOf, type CalibrationConfig, type CalibrationSnapshot, type ValidationQuantiles } from './calibration.ts';
import { Dspot, Spot, validateSpotConfig, type DspotSnapshot, type SpotSnapshot } from './spot.ts';

export type ThresholdMethod = 'spot' | 'dspot' | 'fixed';

export interface ThresholdStateConfig {
  method: ThresholdMethod;
  /** Windows seen before any alert; the SPOT calibration (and DSPOT's window) may extend it. */
  warmupWindows: number;
  /** SPOT risk: the false-alarm probability per window that z_q targets. */
  q: number;
  /** Windows used for SPOT's initial calibration. */
  nInit: number;
  /** Quantile of the calibration scores taken as the initial threshold t. */
  initLevel: number;
  /** Excesses kept for the GPD fit (bounds the refit cost). */
  maxPeaks: number;
  /** Refit the GPD every this many tail events. */
  refitEvery: number;
  /** Keep alarms in the tail fit as censored excesses (see spot.ts). */
  censorAlarms: boolean;
  /** DSPOT: depth of the moving average of normal scores. */
  depth: number;
  /** 'fixed': the open level, in raw score units. */
  fixedThreshold: number;
  /** Keep level as a fraction of the open level; null: SPOT's t (for 'fixed': the open level itself). */
  keepFraction: number | null;
  calibration: CalibrationConfig;
}

export const THRESHOLD_STATE_DEFAULTS: Readonly<ThresholdStateConfig> = Object.freeze({
  method: 'spot',
  warmupWindows: 1_000,
  q: 1e-4,
  nInit: 1_000,
  initLevel: 0.98,
  maxPeaks: 500,
  refitEvery: 5,
  censorAlarms: true,
  depth: 50,
  fixedThreshold: 6,
  keepFraction: null,
  calibration: CALIBRATION_DEFAULTS,
});

/** The decision for one window. Levels are the ones this window was compared with. */
export interface WindowDecision {
  state: 'warmup' | 'normal' | 'anomalous';
  rawScore: number;
  /** 1 - Q(z) (calibration.ts); saturates at 1. */
  likelihood: number;
  /** NAB's log-scaled likelihood; saturates at 1. */
  logLikelihood: number;
  /** -log10 Q(z); never saturates, so it keeps the order of the top scores. */
  surprise: number;
  /** Open level (z_q, or the fixed threshold); null until known. */
  threshold: number | null;
  /** Keep level; null until known. */
  keepLevel: number | null;
  /** This window's score is above the open level (after warm-up): the alarm of SPOT. */
  triggered: boolean;
  /** True while an incident is open (after this window). */
  isOpen: boolean;
  /** The levels are a previous version's, carried for an incident open at the swap while this state warms up. */
  carried: boolean;
}

/** Open and keep levels of a previous version, carried while its incident is open. */
export interface CarriedLevels {
  open: number;
  keep: number;
}

export interface ThresholdStateSnapshot {
  version: 1;
  config: ThresholdStateConfig;
  seen: number;
  isOpen: boolean;
  spot: SpotSnapshot | null;
  dspot: DspotSnapshot | null;
  calibration: CalibrationSnapshot;
  /** Absent in snapshots written before carried levels existed: nothing carried. */
  carried?: CarriedLevels | null;
}

/**
 * @example
 * const state = createThresholdState({ method: 'dspot', q: 1e-4 }, checkpoint.validationQuantiles);
 * const d = state.update(windowScore.score); // { state: 'normal', likelihood: 0.42, threshold: 7.9, ... }
 */
export class ThresholdState {
  private seen = 0;
  private isOpen = false;
  private spot: Spot | null = null;
  private dspot: Dspot | null = null;
  private calibration: Calibration;
  private carried: CarriedLevels | null = null;

  constructor(readonly config: ThresholdStateConfig, prior?: ValidationQuantiles) {
    validateThresholdStateConfig(config);
    const { depth, ...spotConfig } = pickSpotConfig(config);
    if (config.method === 'spot') this.spot = new Spot(spotConfig);
    if (config.method === 'dspot') this.dspot = new Dspot({ ...spotConfig, depth });
    this.calibration = new Calibration(config.calibration, prior);
  }

  /** Decides one window from its raw score (finite; larger = more anomalous), then learns from it. */
  update(rawScore: number): WindowDecision {
    if (!Number.isFinite(rawScore)) {
      throw new DiffwatchError('SCORE_NOT_FINITE', `window score must be finite, got ${rawScore}`, { coords: { field: 'score' } });
    }
    const warm = this.seen < this.config.warmupWindows || Number.isNaN(this.openLevel());
    if (!warm) this.carried = null;
    const carried = this.carried;
    const { open, keep } = this.levels();
    const triggered = !warm && rawScore > open;
    if (!warm || carried) this.isOpen = triggered || (this.isOpen && rawScore > keep);
    this.spot?.step(rawScore);
    this.dspot?.step(rawScore);
    const z = this.calibration.update(rawScore);
    this.seen++;
    const likelihood = likelihoodOf(z);
    return {
      state: warm && !(carried && this.isOpen) ? 'warmup' : this.isOpen ? 'anomalous' : 'normal',
      rawScore,
      likelihood,
      logLikelihood: logLikelihoodOf(likelihood),
      surprise: surpriseOf(z),
      threshold: Number.isNaN(open) ? null : open,
      keepLevel: Number.isNaN(keep) ? null : keep,
      triggered,
      isOpen: this.isOpen,
      carried: carried !== null,
    };
  }

  /**
   * For the fresh state of a new model version: an incident open under `previous` stays open at
   * previous's levels until it resolves or this state has warmed up; nothing new opens meanwhile.
   * Returns this state.
   */
  carryOpenIncident(previous: ThresholdState): this {
    const { open, keep } = previous.levels();
    if (previous.isOpen && Number.isFinite(open) && Number.isFinite(keep)) {
      this.carried = { open, keep };
      this.isOpen = true;
    }
    return this;
  }

  /** The open level (NaN until known), without judging anything. */
  currentThreshold(): number {
    return this.openLevel();
  }

  /** The levels a window is judged at: the carried ones while they last, else this state's own (NaN until known). */
  private levels(): CarriedLevels {
    if (this.carried) return this.carried;
    const open = this.openLevel();
    return { open, keep: Math.min(this.keepLevel(open), open) };
  }

  private openLevel(): number {
    if (this.spot) return this.spot.threshold;
    if (this.dspot) return this.dspot.threshold;
    return this.config.fixedThreshold;
  }

  private keepLevel(open: number): number {
    if (this.config.keepFraction !== null) return this.config.keepFraction * open;
    if (this.spot) return this.spot.initialThreshold;
    if (this.dspot) return this.dspot.initialThreshold;
    return open;
  }

  snapshot(): ThresholdStateSnapshot {
    return {
      version: 1,
      config: { ...this.config, calibration: { ...this.config.calibration } },
      seen: this.seen,
      isOpen: this.isOpen,
      spot: this.spot?.snapshot() ?? null,
      dspot: this.dspot?.snapshot() ?? null,
      calibration: this.calibration.snapshot(),
      carried: this.carried && { ...this.carried },
    };
  }

  /** Rebuilds a detector from `snapshot()` output, or from its JSON text. */
  static restore(json: ThresholdStateSnapshot | string): ThresholdState {
    const s: ThresholdStateSnapshot = typeof json === 'string' ? JSON.parse(json) : json;
    if (s.version !== 1) throw new DiffwatchError('STATE_INVALID', `unknown detector state version ${s.version}`, { coords: { field: 'version' } });
    const state = new ThresholdState(s.config);
    state.seen = s.seen;
    state.isOpen = s.isOpen;
    state.spot = s.spot ? Spot.restore(s.spot) : null;
    state.dspot = s.dspot ? Dspot.restore(s.dspot) : null;
    state.calibration = Calibration.restore(s.calibration);
    state.carried = s.carried ? { ...s.carried } : null;
    return state;
  }
}

/** A detector with THRESHOLD_STATE_DEFAULTS overridden by `overrides`. */
export function createThresholdState(overrides: Partial<ThresholdStateConfig> = {}, prior?: ValidationQuantiles): ThresholdState {
  const config = { ...THRESHOLD_STATE_DEFAULTS, ...overrides };
  return new ThresholdState({ ...config, calibration: { ...config.calibration } }, prior);
}

function pickSpotConfig(c: ThresholdStateConfig) {
  return { q: c.q, nInit: c.nInit, initLevel: c.initLevel, maxPeaks: c.maxPeaks, refitEvery: c.refitEvery, censorAlarms: c.censorAlarms, depth: c.depth };
}

export function validateThresholdStateConfig(c: ThresholdStateConfig, prefix = 'detect'): void {
  if (!['spot', 'dspot', 'fixed'].includes(c.method)) throw new ConfigError(`${prefix}.method`, `must be 'spot', 'dspot' or 'fixed', got ${c.method}`);
  if (!(Number.isInteger(c.warmupWindows) && c.warmupWindows >= 0)) throw new ConfigError(`${prefix}.warmupWindows`, `must be an integer >= 0, got ${c.warmupWindows}`);
  if (c.method !== 'fixed') validateSpotConfig(c, prefix);
  if (c.method === 'fixed' && !Number.isFinite(c.fixedThreshold)) throw new ConfigError(`${prefix}.fixedThreshold`, `must be finite, got ${c.fixedThreshold}`);
  if (c.keepFraction !== null && !(c.keepFraction > 0 && c.keepFraction <= 1)) {
    throw new ConfigError(`${prefix}.keepFraction`, `must be in (0, 1] or null (SPOT's t), got ${c.keepFraction}; a keep level above the open level would close incidents at once`);
  }
}
