/**
 * Which target channels the profile and dispersion tests count for (ModelConfig.conditionedProfileOnly).
 * Both compare the newest points with whole-window draws, and those draws know only what the net
 * is conditioned on: the calendar and the commands. The tests are calibrated on the validation
 * windows (profileCalibration.ts), so a channel keeps them only where that calibration can hold:
 *
 *   conditioned on a command      always: any stretch of validation shows the commands' effect
 *   conditioned on the calendar   when the validation windows span a whole day: fitted on part of
 *                                 the day, z̄'s mean and spread are those of a few phases, and
 *                                 every other phase reads as wrong for its time of day
 *   conditioned on neither        never: the draws are unconditional, and the test asks only
 *                                 whether a stretch lies inside the training range, which a
 *                                 wandering channel leaves in normal operation
 *
 * Measured: a 4-hour cycle sampled each minute, a model fine-tuned on 231 rows after a level shift
 * (20 validation windows, a sixth of the cycle): with the profile test its evidence on the new
 * level had a median of 23.9 against a validation median of 1.0; without it 0.0, against 1.0.
 * Decided at every fit, the fine-tunes' included, from that fit's own validation windows.
 */
import type { ImputationScoring } from './checkpoint.ts';
import type { DenoiserArgs } from './denoiser.ts';
import type { ModelConfig } from './modelConfig.ts';

const DAY_MS = 86_400_000;

/** Whether the newest points of the validation windows `[W, L]` (epoch ms) span at least a day. */
export function validationSpansDay(timestamps: ArrayLike<number>, W: number, L: number): boolean {
  return W > 0 && timestamps[W * L - 1] - timestamps[L - 1] >= DAY_MS;
}

/**
 * Per channel, whether the profile tests count for it: a target whose net (its group's, or the one
 * net) reads a command, or reads the calendar while `spansDay`.
 */
export function profileScope(imp: Pick<ImputationScoring, 'targets' | 'reads' | 'calendar'>, net: Pick<DenoiserArgs, 'groups' | 'groupExtras'>, spansDay: boolean): boolean[] {
  const read = imp.targets.flatMap((_, c) => (imp.reads?.[c] ?? true ? [c] : [])); // net channel → channel
  const groups = net.groups?.map((g) => g.map((i) => read[i])) ?? [read];
  const out = imp.targets.map(() => false);
  groups.forEach((g, i) => {
    const calendar = imp.calendar === true && net.groupExtras?.[i] !== false;
    const conditioned = g.some((c) => !imp.targets[c]) || (calendar && spansDay);
    for (const c of g) out[c] = imp.targets[c] && conditioned;
  });
  return out;
}

/**
 * `imp` with the profile tests on the channels of `counted`: off altogether when none is (the
 * whole-window draws are then not made), `profileChannels` written only when some target is left
 * out. The settings come from `cfg`, so a fine-tune whose validation spans a day gets back a test
 * its parent's fit could not calibrate.
 */
export function withProfileScope(imp: ImputationScoring, cfg: Pick<ModelConfig, 'profileSpan' | 'dispersionTest'>, counted: readonly boolean[]): ImputationScoring {
  const { profileTest: _t, profileSpan: _s, dispersionTest: _d, profileChannels: _c, profile: _p, ...rest } = imp;
  if (!counted.some(Boolean)) return rest;
  const partial = imp.targets.some((t, c) => t && !counted[c]);
  return {
    ...rest,
    profileTest: true,
    ...(cfg.profileSpan > 1 ? { profileSpan: cfg.profileSpan } : {}),
    ...(cfg.dispersionTest ? { dispersionTest: true } : {}),
    ...(partial ? { profileChannels: [...counted] } : {}),
  };
}
