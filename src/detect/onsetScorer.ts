/**
 * Window scores → sparse, calibrated anomaly evidence with alert onsets, per entity:
 *
 *   raw       = mean of the newest `recentPoints` point scores of the window
 *   rank      = TailRank surprise of raw among this entity's past raws      (tailRank.ts)
 *   evidence  = rank + noveltyBonus · min(1, novelty / noveltyRamp)   novelty: RangeNovelty excess of the newest point
 *               + level                                                    LevelShift of the newest values (levelShift.ts)
 *   gated     = OnsetGate(evidence): one loud window per excursion            (onsetGate.ts)
 *   score     = gated / (gated + half)                                       in [0, 1), never saturates
 *
 * Why the newest few points rather than the newest one: a window is scored once, when its last
 * point arrives, and one point's reconstruction error is noisy; the mean of the last points
 * still moves on the arrival of an anomaly but not on single-point noise. Why a bonus rather
 * than a sum of two probabilities: a value clearly outside everything seen is decisive on its
 * own, and the full bonus puts it above all but the rarest model errors whatever its size; the
 * ramp keeps a series that creeps to a new high by a hair (a slow trend) from paging each time.
 *
 * @example
 * const scorer = new OnsetScorer(ONSET_SCORER_DEFAULTS);
 * const out = scorer.update(windowScore.pointScores, newestPoint); // { score: 0.21, onset: false, ... }
 */
import { ConfigError } from '../errors.ts';
import { OnsetGate, ONSET_GATE_DEFAULTS, type OnsetGateConfig, type OnsetGateSnapshot } from './onsetGate.ts';
import { RangeNovelty, RANGE_NOVELTY_DEFAULTS, type RangeNoveltyConfig, type RangeNoveltySnapshot } from './rangeNovelty.ts';
import { LevelShift, LEVEL_SHIFT_DEFAULTS, type LevelShiftConfig, type LevelShiftSnapshot } from './levelShift.ts';
import { TailRank, TAIL_RANK_DEFAULTS, type TailRankConfig, type TailRankSnapshot } from './tailRank.ts';

export interface OnsetScorerConfig {
  /** Newest point scores of a window averaged into its raw score (1: the window score itself). */
  recentPoints: number;
  tailRank: TailRankConfig;
  rangeNovelty: RangeNoveltyConfig;
  /** Evidence, in digits of surprise, added when the newest point leaves the range seen so far by `noveltyRamp` or more. */
  noveltyBonus: number;
  /** Excess, in ranges, that earns the full bonus; a smaller excess earns its share of it. */
  noveltyRamp: number;
  /** The mean of the newest values against a long history (levelShift.ts). */
  levelShift: LevelShiftConfig;
  gate: OnsetGateConfig;
  /** Evidence at which the bounded score is 0.5. */
  half: number;
}

export const ONSET_SCORER_DEFAULTS: Readonly<OnsetScorerConfig> = Object.freeze({
  recentPoints: 8,
  tailRank: TAIL_RANK_DEFAULTS,
  rangeNovelty: RANGE_NOVELTY_DEFAULTS,
  noveltyBonus: 10,
  noveltyRamp: 0.05,
  levelShift: LEVEL_SHIFT_DEFAULTS,
  gate: ONSET_GATE_DEFAULTS,
  half: 10,
});

export interface OnsetDecision {
  /** The raw score that was ranked. */
  raw: number;
  /** Rank surprise of `raw`, digits. */
  rank: number;
  /** Excess of the newest point over the range seen before it, in ranges (0 inside). */
  novelty: number;
  /** Level-shift evidence of the newest values, digits. */
  level: number;
  /** rank plus the novelty bonus plus the level-shift evidence, before gating. */
  evidence: number;
  /** Evidence after the onset gate. */
  gated: number;
  /** gated / (gated + half), in [0, 1). */
  score: number;
  /** This window opens a new excursion at or above the gate's level. */
  onset: boolean;
}

/** Mean of the last `k` of `pointScores` (all of them when there are fewer). */
export function recentMean(pointScores: ArrayLike<number>, k: number): number {
  const n = Math.min(k, pointScores.length);
  let sum = 0;
  for (let i = pointScores.length - n; i < pointScores.length; i++) sum += pointScores[i];
  return sum / n;
}

export interface OnsetScorerSnapshot {
  rank: TailRankSnapshot;
  range: RangeNoveltySnapshot;
  level: LevelShiftSnapshot;
  gate: OnsetGateSnapshot;
  sinceOnset: number | null;
}

export class OnsetScorer {
  private rank: TailRank;
  private range: RangeNovelty;
  private gate: OnsetGate;
  private level: LevelShift;
  /** Windows since the last onset. */
  private sinceOnset = Number.POSITIVE_INFINITY;

  constructor(readonly config: OnsetScorerConfig = ONSET_SCORER_DEFAULTS) {
    if (!(Number.isInteger(config.recentPoints) && config.recentPoints >= 1)) throw new ConfigError('detect.onsetScorer.recentPoints', `must be an integer >= 1, got ${config.recentPoints}`);
    if (!(config.noveltyBonus >= 0 && Number.isFinite(config.noveltyBonus))) throw new ConfigError('detect.onsetScorer.noveltyBonus', `must be a finite number >= 0, got ${config.noveltyBonus}`);
    if (!(config.noveltyRamp > 0)) throw new ConfigError('detect.onsetScorer.noveltyRamp', `must be > 0, got ${config.noveltyRamp}`);
    if (!(config.half > 0)) throw new ConfigError('detect.onsetScorer.half', `must be > 0, got ${config.half}`);
    this.rank = new TailRank(config.tailRank);
    this.range = new RangeNovelty(config.rangeNovelty);
    this.gate = new OnsetGate(config.gate);
    this.level = new LevelShift(config.levelShift);
  }

  /**
   * Points that precede the first scored window (its older rows): they widen the range without
   * being judged, so that the first window's newest point is judged against them.
   */
  observe(point: ArrayLike<number>): void {
    this.range.update(point);
    this.level.observe(point);
  }

  /** One window: its point scores `[L]` and its newest point `[C]`. */
  update(pointScores: ArrayLike<number>, newest: ArrayLike<number>): OnsetDecision {
    const raw = recentMean(pointScores, this.config.recentPoints);
    const rank = this.rank.update(raw);
    const novelty = this.range.update(newest);
    const level = this.level.update(newest);
    const evidence = rank + this.config.noveltyBonus * Math.min(1, novelty / this.config.noveltyRamp) + level;
    const g = this.gate.update(evidence);
    this.sinceOnset = g.onset ? 0 : this.sinceOnset + 1;
    // A level change seen at or within the hold of an onset has been reported: it is the new baseline.
    if (level > 0 && this.sinceOnset <= this.config.gate.holdWindows) this.level.rebase();
    return { raw, rank, novelty, level, evidence, gated: g.score, score: g.score / (g.score + this.config.half), onset: g.onset };
  }
  /** Plain JSON for the state topic: `restore` gives a scorer that decides exactly the same. */
  snapshot(): OnsetScorerSnapshot {
    return { rank: this.rank.snapshot(), range: this.range.snapshot(), level: this.level.snapshot(), gate: this.gate.snapshot(), sinceOnset: Number.isFinite(this.sinceOnset) ? this.sinceOnset : null };
  }

  static restore(config: OnsetScorerConfig, s: OnsetScorerSnapshot): OnsetScorer {
    const o = new OnsetScorer(config);
    o.rank = TailRank.restore(config.tailRank, s.rank);
    o.range = RangeNovelty.restore(config.rangeNovelty, s.range);
    o.gate = OnsetGate.restore(config.gate, s.gate);
    o.level = LevelShift.restore(config.levelShift, s.level);
    o.sinceOnset = s.sinceOnset ?? Number.POSITIVE_INFINITY;
    return o;
  }
}
