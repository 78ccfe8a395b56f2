/**
 * Onset gating: one loud mark per excursion instead of one per window. A calibrated evidence
 * stream stays high for as long as an anomalous stretch lasts, and a sliding window with a hop
 * of 1 sees the same anomaly in L windows; a pager (and NAB's scoring, which charges every
 * detection outside a label window) wants the first one. CAD OSE and ARTime on the NAB
 * scoreboard do the same: they report an anomaly once and stay quiet for a while.
 *
 *   fresh   = s > recentFactor · max(s over the previous `holdWindows` windows)
 *   output  = fresh ? s : damping · s                 the excursion's later windows are damped
 *   onset   = fresh && s >= level && no onset in the previous `holdWindows` windows
 *
 * The damping keeps the order of the damped windows among themselves (a threshold far above
 * `level` still sees them), so a downstream threshold sweep stays meaningful. The gate is
 * scale-free: `fresh` compares the evidence with its own recent past, so it behaves the same at
 * every threshold; only `onset` uses the fixed `level`.
 *
 * @example
 * const gate = new OnsetGate({ holdWindows: 100, recentFactor: 1, damping: 0, level: 3 });
 * gate.update(1);   // { score: 1, onset: false }   fresh, below the level
 * gate.update(5);   // { score: 5, onset: true }    fresh, at the level: an onset
 * gate.update(4);   // { score: 0, onset: false }   below the recent maximum 5: damped
 * gate.update(6);   // { score: 6, onset: false }   fresh (a new high), but within the hold of the onset
 */
import { ConfigError, DiffwatchError } from '../errors.ts';

export interface OnsetGateConfig {
  /** Windows an excursion's maximum and an onset are remembered for (the refractory period). */
  holdWindows: number;
  /** A window is fresh when its evidence exceeds this times the recent maximum. */
  recentFactor: number;
  /** Factor applied to the evidence of a window that is not fresh, in [0, 1]. */
  damping: number;
  /** Evidence at or above which a fresh window opens an onset (the alert level). */
  level: number;
}

export const ONSET_GATE_DEFAULTS: Readonly<OnsetGateConfig> = Object.freeze({
  holdWindows: 100,
  recentFactor: 1,
  damping: 0,
  level: 3,
});

export interface GatedEvidence {
  /** The evidence, damped when the window continues an excursion. */
  score: number;
  /** The window starts a new excursion at or above `level`. */
  onset: boolean;
  /** The window is above the recent maximum (before the level check). */
  fresh: boolean;
}

export function validateOnsetGateConfig(cfg: OnsetGateConfig, prefix = 'detect.onsetGate'): void {
  if (!(Number.isInteger(cfg.holdWindows) && cfg.holdWindows >= 0)) throw new ConfigError(`${prefix}.holdWindows`, `must be an integer >= 0, got ${cfg.holdWindows}`);
  if (!(cfg.recentFactor > 0 && Number.isFinite(cfg.recentFactor))) throw new ConfigError(`${prefix}.recentFactor`, `must be a finite number > 0, got ${cfg.recentFactor}`);
  if (!(cfg.damping >= 0 && cfg.damping <= 1)) throw new ConfigError(`${prefix}.damping`, `must lie in [0, 1], got ${cfg.damping}`);
  if (!Number.isFinite(cfg.level)) throw new ConfigError(`${prefix}.level`, `must be finite, got ${cfg.level}`);
}

export interface OnsetGateSnapshot {
  dequeIdx: number[];
  dequeVal: number[];
  index: number;
  lastOnset: number | null;
}

export class OnsetGate {
  /** Monotonic deque of (index, evidence): evidences decrease from front to back, so the front is the window maximum. */
  private readonly dequeIdx: number[] = [];
  private readonly dequeVal: number[] = [];
  private index = 0;
  private lastOnset = Number.NEGATIVE_INFINITY;

  constructor(readonly config: OnsetGateConfig = ONSET_GATE_DEFAULTS) {
    validateOnsetGateConfig(config);
  }

  update(evidence: number): GatedEvidence {
    if (!Number.isFinite(evidence)) throw new DiffwatchError('SCORE_NOT_FINITE', `onset gate: evidence must be finite, got ${evidence}`, { coords: { field: 'evidence' } });
    const { holdWindows, recentFactor, damping, level } = this.config;
    const i = this.index++;
    while (this.dequeIdx.length > 0 && this.dequeIdx[0] < i - holdWindows) {
      this.dequeIdx.shift();
      this.dequeVal.shift();
    }
    const recentMax = this.dequeVal.length > 0 ? this.dequeVal[0] : 0;
    const fresh = evidence > recentFactor * recentMax;
    const onset = fresh && evidence >= level && i - this.lastOnset > holdWindows;
    if (onset) this.lastOnset = i;
    // The raw evidence enters the memory, damped or not: a long excursion stays one excursion.
    while (this.dequeVal.length > 0 && this.dequeVal[this.dequeVal.length - 1] <= evidence) {
      this.dequeIdx.pop();
      this.dequeVal.pop();
    }
    this.dequeIdx.push(i);
    this.dequeVal.push(evidence);
    return { score: fresh ? evidence : damping * evidence, onset, fresh };
  }
  /** Plain JSON for the state topic. */
  snapshot(): OnsetGateSnapshot {
    return { dequeIdx: [...this.dequeIdx], dequeVal: [...this.dequeVal], index: this.index, lastOnset: Number.isFinite(this.lastOnset) ? this.lastOnset : null };
  }

  static restore(config: OnsetGateConfig, s: OnsetGateSnapshot): OnsetGate {
    const g = new OnsetGate(config);
    g.dequeIdx.push(...s.dequeIdx);
    g.dequeVal.push(...s.dequeVal);
    g.index = s.index;
    g.lastOnset = s.lastOnset ?? Number.NEGATIVE_INFINITY;
    return g;
  }
}
