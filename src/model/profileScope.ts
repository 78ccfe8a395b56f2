/**
 * Which target channels the profile and dispersion tests count for (ModelConfig.conditionedProfileOnly).
 * Both compare the newest points with whole-window draws, and those draws know only what the net
 * is conditioned on: the calendar and the commands. The tests are calibrated on windows of the fit
 * (profileCalibration.ts), so a channel keeps them only where that calibration can hold:
 *
 *   a net that reads a command        always: the draws follow the commands, seen in any stretch
 *   a net that reads the calendar     when the fit spans a week, the calendar's longest period:
 *                                     fitted on three days, the draws are a profile of those days,
 *                                     and a weekly swing reads as wrong for the time of day (the
 *                                     synthetic slice's 1.5σ weekly part: a 4σ spike's AUC fell
 *                                     from 0.990 to 0.827 with the test calibrated); on a shorter
 *                                     fit it keeps the dispersion test alone, centred on the
 *                                     stretch's own mean residual (ModelConfig.shortFitDispersion)
 *   a net that reads neither          as one net, kept: its draws test whether a stretch lies in
 *                                     the training range, which NAB's one-channel files reward
 *                                     (tuning half, three seeds: standard −1.3, alerts −2.8
 *                                     without it); as one group of several, dropped: a wandering
 *                                     channel leaves its range in normal operation and would
 *                                     raise the whole entity's score
 *
 * Decided at every fit, the fine-tunes' included, from that fit's own span.
 */
import type { ImputationScoring } from './checkpoint.ts';
import type { DenoiserArgs } from './denoiser.ts';
import type { ModelConfig } from './modelConfig.ts';

const WEEK_MS = 7 * 86_400_000;

/**
 * Whether N rows from `first` to `last` (epoch ms) span the calendar's week: N rows cover N
 * steps, so seven days of 5-minute rows (2,016) do, though their last is 5 minutes short of 7 days.
 */
export function fitSpansWeek(first: number, last: number, rows: number): boolean {
  return rows > 1 && ((last - first) * rows) / (rows - 1) >= WEEK_MS;
}

type Scoped = Pick<ImputationScoring, 'targets' | 'reads' | 'calendar'>;
type Nets = Pick<DenoiserArgs, 'groups' | 'groupExtras'>;

/** A net's channels (the model's indices) and whether it reads the calendar and a command. */
interface ConditionedNet {
  channels: number[];
  calendar: boolean;
  command: boolean;
}

function conditionedNets(imp: Scoped, net: Nets): ConditionedNet[] {
  const read = imp.targets.flatMap((_, c) => (imp.reads?.[c] ?? true ? [c] : [])); // net channel → channel
  const groups = net.groups?.map((g) => g.map((i) => read[i])) ?? [read];
  return groups.map((g, i) => ({ channels: g, calendar: imp.calendar === true && net.groupExtras?.[i] !== false, command: g.some((c) => !imp.targets[c]) }));
}

/** Per channel, `rule` of its net for a target, false for the rest. */
function perTarget(imp: Scoped, net: Nets, rule: (n: ConditionedNet, nets: number) => boolean): boolean[] {
  const nets = conditionedNets(imp, net);
  const out = imp.targets.map(() => false);
  for (const n of nets) for (const c of n.channels) out[c] = imp.targets[c] && rule(n, nets.length);
  return out;
}

/**
 * Per channel, whether the profile tests count for it: a target whose net (its group's, or the one
 * net) reads a command, or reads the calendar while `spansWeek`, or is the one net and reads neither.
 */
export function profileScope(imp: Scoped, net: Nets, spansWeek: boolean): boolean[] {
  return perTarget(imp, net, (n, nets) => n.command || (n.calendar ? spansWeek : nets === 1));
}

/**
 * Per channel, whether it keeps the dispersion test alone, centred (ModelConfig.shortFitDispersion):
 * a target whose net reads the calendar and no command while the fit is shorter than a week.
 */
export function centredDispersionScope(imp: Scoped, net: Nets, spansWeek: boolean): boolean[] {
  return perTarget(imp, net, (n) => n.calendar && !n.command && !spansWeek);
}

/**
 * `imp` with the profile tests on the channels of `counted`, and the centred dispersion test alone
 * on those of `centred`: off altogether when neither has any (the whole-window draws are then not
 * made), `profileChannels` written only when some target is left out. The settings come from
 * `cfg`, so a fine-tune whose fit spans a week gets back a test its parent's shorter fit could not
 * calibrate.
 */
export function withProfileScope(imp: ImputationScoring, cfg: Pick<ModelConfig, 'profileSpan' | 'dispersionTest'>, counted: readonly boolean[], centred: readonly boolean[] = []): ImputationScoring {
  const { profileTest: _t, profileSpan: _s, dispersionTest: _d, profileChannels: _c, centredDispersionChannels: _cd, profile: _p, ...rest } = imp;
  const scatterOnly = cfg.dispersionTest && centred.some(Boolean);
  if (!counted.some(Boolean) && !scatterOnly) return rest;
  const partial = imp.targets.some((t, c) => t && !counted[c]);
  return {
    ...rest,
    profileTest: true,
    ...(cfg.profileSpan > 1 ? { profileSpan: cfg.profileSpan } : {}),
    ...(cfg.dispersionTest ? { dispersionTest: true } : {}),
    ...(partial ? { profileChannels: [...counted] } : {}),
    ...(scatterOnly ? { centredDispersionChannels: imp.targets.map((t, c) => t && !counted[c] && centred[c] === true) } : {}),
  };
}
