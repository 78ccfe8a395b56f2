/**
 * What an imputation model needs to know about its channels, fitted on the training rows:
 * which channels it generates and scores (analogue), which only condition it (binary commands,
 * constants), the values each conditioning channel took, and a scale for those that puts a
 * command's two states at 0 and 1 instead of dividing by a spread of almost nothing (a flag that
 * is nearly always 0 has a robust scale near the floor, which turned every toggle into a z of
 * hundreds and drowned the analogue channels' evidence).
 */
import type { ImputationScoring } from './checkpoint.ts';
import { channelKinds, distinctValues } from './channelKinds.ts';
import { analogueGroups } from './channelGroups.ts';
import { conditioningRelations, relatedConditioning } from './conditioningRelation.ts';
import type { ModelConfig } from './modelConfig.ts';
import { fitRobustScaler, type RobustScaler } from './normalization.ts';

/** The manifest's `imputation` section for training rows `[N, C]` (raw units). */
export function imputationScoring(trainRows: ArrayLike<number>, C: number, cfg: Pick<ModelConfig, 'imputeSteps' | 'imputeDraws' | 'sigmaFloor' | 'calendar' | 'profileTest' | 'profileSpan' | 'dispersionTest'>, reach: number): ImputationScoring {
  const kinds = channelKinds(trainRows, C);
  const targets = kinds.map((k) => k === 'analogue');
  const related = relatedConditioning(trainRows, C, targets, reach);
  // With no target there is nothing to generate and no relation to test; the net keeps every
  // channel (it cannot be built for none) and the model scores the commands' novelty alone.
  const reads = targets.some(Boolean) ? targets.map((t, c) => t || related[c]) : targets.map(() => true);
  return {
    // Written only when on, so that a model without them hashes as before they existed.
    ...(cfg.calendar ? { calendar: true } : {}),
    ...(cfg.profileTest ? { profileTest: true } : {}),
    ...(cfg.profileTest && cfg.profileSpan > 1 ? { profileSpan: cfg.profileSpan } : {}),
    ...(cfg.profileTest && cfg.dispersionTest ? { dispersionTest: true } : {}),
    steps: cfg.imputeSteps,
    draws: cfg.imputeDraws,
    sigmaFloor: cfg.sigmaFloor,
    targets,
    levels: kinds.map((k, c) => (k === 'analogue' ? null : distinctValues(trainRows, C, c).sort((a, b) => a - b))),
    // Written only when some conditioning channel is left unread (a model without commands hashes as before).
    ...(reads.every(Boolean) ? {} : { reads }),
  };
}

/**
 * The denoiser's channel groups (denoiser.ts, `groups`): each group of related analogue channels
 * (channelGroups.ts) with the commands related to them, as channel indices (`channels`) and in the
 * net's channel order, the channels it reads (`groups`). Undefined when the targets form one
 * group: one net, as without groups.
 * @param trainRows training rows `[N, C]`, raw units
 */
export function netGroups(trainRows: ArrayLike<number>, C: number, scoring: Pick<ImputationScoring, 'targets' | 'reads'>, reach: number): { channels: number[][]; groups: number[][] } | undefined {
  const analogue = analogueGroups(trainRows, C, scoring.targets, reach);
  if (analogue.length < 2) return undefined;
  const relations = conditioningRelations(trainRows, C, scoring.targets, reach);
  const read = scoring.targets.flatMap((_, c) => (scoring.reads?.[c] ?? true ? [c] : []));
  const netIndex = new Map(read.map((c, i) => [c, i]));
  const channels = analogue.map((g) => {
    const commands = relations.flatMap((targets, k) => (targets?.some((a) => g.includes(a)) ? [k] : []));
    return [...g, ...commands].sort((a, b) => a - b);
  });
  return { channels, groups: channels.map((g) => g.map((c) => netIndex.get(c)!)) };
}

/** The scaler with each conditioning channel mapped onto [0, 1] by its training levels (a constant keeps its centre and floor). */
export function conditioningScaler(scaler: RobustScaler, scoring: Pick<ImputationScoring, 'levels'>): RobustScaler {
  const out: RobustScaler = { ...scaler, center: [...scaler.center], scale: [...scaler.scale], floored: [...scaler.floored] };
  scoring.levels.forEach((levels, c) => {
    if (levels === null) return;
    out.center[c] = levels[0];
    if (levels.length === 2) out.scale[c] = levels[1] - levels[0];
  });
  return out;
}

/**
 * An entity's own scaler for a shared imputation model (`normalization: 'entity'`): robust for the
 * analogue channels, and each of the model's conditioning channels mapped onto [0, 1] by the
 * entity's OWN levels, so that a machine whose command reads 3/7 where the training machine's read
 * 0/1 feeds the network the same two states. A robust scale of a mostly-0 flag is its floor, and
 * would turn the entity's other state into a z of hundreds.
 * @param values the entity's rows `[N, C]`, raw units, in the model's channel order
 */
export function entityConditioningScaler(values: ArrayLike<number>, C: number, scoring: Pick<ImputationScoring, 'levels'>): RobustScaler {
  const own = scoring.levels.map((levels, c) => (levels === null ? null : distinctValues(values, C, c).sort((a, b) => a - b)));
  return conditioningScaler(fitRobustScaler(values, C), { levels: own });
}

/** A conditioning channel's training levels in the model's scaled units, ascending; null for targets. */
function scaledLevels(scoring: Pick<ImputationScoring, 'levels'>, model: Pick<RobustScaler, 'center' | 'scale'>): (number[] | null)[] {
  return scoring.levels.map((levels, c) => (levels === null ? null : levels.map((v) => (v - model.center[c]) / model.scale[c])));
}

/**
 * The windows `[b, L, C]` (scaled) with each conditioning channel held inside the range of its
 * training levels, as the net is fed them. A value the net never saw, above all a command that was
 * constant in training and moved, is an input its weights were never fitted to: a constant's floor
 * scale turns a step of 1 into thousands of units, and the net's predictions of every analogue
 * channel went with it. The novelty term (below) reports the value itself.
 */
export function clampConditioning(z: Float32Array, b: number, L: number, C: number, scoring: Pick<ImputationScoring, 'levels'>, model: Pick<RobustScaler, 'center' | 'scale'>): Float32Array {
  const levels = scaledLevels(scoring, model);
  if (levels.every((l) => l === null)) return z;
  const out = Float32Array.from(z);
  for (let c = 0; c < C; c++) {
    const l = levels[c];
    if (l === null) continue;
    const [lo, hi] = [l[0], l[l.length - 1]];
    for (let k = c; k < b * L * C; k += C) out[k] = Math.min(hi, Math.max(lo, out[k]));
  }
  return out;
}

/**
 * Evidence from the conditioning channels of window w's newest row: for a channel whose newest value
 * is not one seen in training and did not occur earlier in the window, min(½ (d/σ_min)², ln(n + 1)),
 * d being the scaled distance to the nearest training level and n the rows the levels were taken
 * from. A command's first step into a state never seen is an event; the state held afterwards is
 * not a new one in every window (with a plain ½ (d/σ_min)², a flag constant in training that flipped
 * scored about 10⁸ in every window while it stayed, and on a 3-day fit the multivariate AUCs fell to
 * chance). ln(n + 1) is the surprise of a value with probability 1/(n + 1), what n rows without it
 * allow (Laplace's rule), so the term is in the units of the targets' evidence and bounded.
 * Measured on the scaled window, so an entity with its own scaler is compared state for state.
 * @param z windows scaled by the scaler in use `[b, L, C]`
 * @param model the model's own scaler (`manifest.normalization`)
 * @returns per channel, 0 for targets
 */
export function noveltyTerms(z: ArrayLike<number>, w: number, L: number, C: number, scoring: ImputationScoring, model: Pick<RobustScaler, 'center' | 'scale'>, trainRows: number): Float64Array {
  const out = new Float64Array(C);
  const cap = Math.log(trainRows + 1);
  scaledLevels(scoring, model).forEach((levels, c) => {
    if (levels === null) return;
    const newest = z[(w * L + L - 1) * C + c];
    const d = Math.min(...levels.map((v) => Math.abs(newest - v)));
    if (d === 0) return;
    for (let i = 0; i < L - 1; i++) if (z[(w * L + i) * C + c] === newest) return;
    out[c] = Math.min(0.5 * (d / scoring.sigmaFloor) ** 2, cap);
  });
  return out;
}
