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
import type { ModelConfig } from './modelConfig.ts';
import { fitRobustScaler, type RobustScaler } from './normalization.ts';

/** The manifest's `imputation` section for training rows `[N, C]` (raw units). */
export function imputationScoring(trainRows: ArrayLike<number>, C: number, cfg: Pick<ModelConfig, 'imputeSteps' | 'imputeDraws' | 'sigmaFloor' | 'calendar' | 'profileTest' | 'profileSpan'>): ImputationScoring {
  const kinds = channelKinds(trainRows, C);
  return {
    // Written only when on, so that a model without them hashes as before they existed.
    ...(cfg.calendar ? { calendar: true } : {}),
    ...(cfg.profileTest ? { profileTest: true } : {}),
    ...(cfg.profileTest && cfg.profileSpan > 1 ? { profileSpan: cfg.profileSpan } : {}),
    steps: cfg.imputeSteps,
    draws: cfg.imputeDraws,
    sigmaFloor: cfg.sigmaFloor,
    targets: kinds.map((k) => k === 'analogue'),
    levels: kinds.map((k, c) => (k === 'analogue' ? null : distinctValues(trainRows, C, c).sort((a, b) => a - b))),
  };
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

/**
 * Evidence from the conditioning channels of one row: ½ (d / σ_min)² summed, d being the distance,
 * in scaled units, to the nearest value seen in training (each training level scaled by the
 * model's own scaler). Measured on the scaled row, so an entity with its own scaler is compared
 * state for state. 0 while every command is in a known state.
 * @param z the row scaled by the scaler in use `[C]`
 * @param model the model's own scaler (`manifest.normalization`)
 * @returns per channel, 0 for targets
 */
export function noveltyTerms(z: ArrayLike<number>, scoring: ImputationScoring, model: Pick<RobustScaler, 'center' | 'scale'>): Float64Array {
  const out = new Float64Array(scoring.levels.length);
  scoring.levels.forEach((levels, c) => {
    if (levels === null) return;
    const d = Math.min(...levels.map((v) => Math.abs(z[c] - (v - model.center[c]) / model.scale[c])));
    out[c] = 0.5 * (d / scoring.sigmaFloor) ** 2;
  });
  return out;
}
