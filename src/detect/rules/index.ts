/**
 * Rules beside the model. Each is a small stateful judge per entity, fed one point at a time;
 * its result feeds the alert lifecycle under its own kind, so a rule's incidents never merge
 * with the model's (dedup is per entity and kind).
 *
 * @example
 * const flat = createFlatline({ minPoints: 30, epsilon: 0 }, row.channels);
 * lifecycle.update(ruleInput(flat.update(row.values), { entityId, kind: FLATLINE_KIND, endTime: row.timestamp, channels: row.channels }));
 */
import type { Judgement, LifecycleInput } from '../alertLifecycle.ts';

export { createFlatline, FLATLINE_KIND, type Flatline, type FlatlineDetail, type FlatlineOptions, type FlatlineResult } from './flatline.ts';
export { createOutOfRange, OUT_OF_RANGE_KIND, validateLimits, type ChannelLimits, type OutOfRange, type OutOfRangeDetail, type OutOfRangeResult } from './outOfRange.ts';
export { createSilence, SILENCE_KIND, type Silence, type SilenceDetail, type SilenceOptions, type SilenceResult } from './silence.ts';

/** The model version rules put into alert ids; bump it when a rule's meaning changes. */
export const RULES_VERSION = 'rules@1';

/**
 * A lifecycle input from a rule's (reused) result. Numbers are copied; `contributions` is the
 * rule's buffer, which the lifecycle reads at once and does not keep.
 */
export function ruleInput(
  r: Judgement & { detail: unknown },
  at: { entityId: string; kind: string; endTime: number; channels: readonly string[]; modelVersion?: string },
): LifecycleInput {
  return {
    entityId: at.entityId,
    kind: at.kind,
    endTime: at.endTime,
    channels: at.channels,
    modelVersion: at.modelVersion ?? RULES_VERSION,
    triggered: r.triggered,
    score: r.score,
    threshold: r.threshold,
    keepLevel: r.keepLevel,
    contributions: r.contributions,
    detail: r.detail,
  };
}
