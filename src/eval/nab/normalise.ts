/**
 * NAB's normalisation against the null and the perfect detector
 * (numenta/NAB `nab/runner.py` `Runner.normalize`): `100 * (raw - null) / (perfect - null)`.
 */
import type { PreparedCorpus } from './prepareCorpus.ts';
import type { CostMatrix } from './types.ts';

/**
 * The raw score of NAB's null detector: it never crosses its threshold, so every scorable
 * window is a false negative (-116 standard, -232 reward_low_FN_rate on the v1.1 corpus).
 */
export function nullScore(prepared: PreparedCorpus, cost: CostMatrix): number {
  return -cost.fnWeight * prepared.scorableWindows;
}

/** The perfect detector's raw score: every window of the label file caught at its left edge. */
export function perfectScore(prepared: PreparedCorpus, cost: CostMatrix): number {
  return cost.tpWeight * prepared.labelWindowCount;
}

/**
 * Maps a raw score to NAB's 0 (null detector) .. 100 (perfect) scale; worse than null is negative.
 *
 * @example normalise(46.63, -116, 116) // 70.10
 */
export function normalise(raw: number, nullRaw: number, perfectRaw: number): number {
  return (100 * (raw - nullRaw)) / (perfectRaw - nullRaw);
}
