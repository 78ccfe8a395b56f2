/**
 * What training an imputation model adds to training a denoiser (trainer.ts): the channel roles and
 * the scaler fitted on the training rows, and the loss over the target channels.
 */
import type { ImputationScoring } from './checkpoint.ts';
import { leftReach, resolveDenoiserArgs } from './denoiser.ts';
import { groupsWithDailyProfile } from './dailyProfile.ts';
import { conditioningScaler, imputationScoring, netGroups } from './imputationSpec.ts';
import { trendingChannels } from './levelTrend.ts';
import type { ModelConfig } from './modelConfig.ts';
import { fitRobustScaler, type RobustScaler } from './normalization.ts';
import { fitSpansWeek } from './profileScope.ts';
import { denoisingObjective, imputationObjective, type TrainingObjective } from './trainingObjective.ts';
import { splitWindows } from './windows.ts';

/** The part of a training series these read: row-major `[N, C]` values. */
interface SeriesRows {
  values: Float64Array;
  channels: readonly string[];
  timestamps: Float64Array;
}

/**
 * The channel roles and the scaler of an imputation model, from the training rows only (as the
 * scaler always is), and with `channelGroups` the groups its net is split into (undefined: one net)
 * and, for a model with the calendar, which of them read it (undefined: all; dailyProfile.ts).
 */
export function imputationFit(series: SeriesRows, cfg: ModelConfig): { scoring: ImputationScoring; scaler: RobustScaler; groups?: number[][]; groupCalendar?: boolean[] } {
  const C = series.channels.length;
  // The points that reach the newest output: how far back a command's effect can be used.
  const reach = leftReach(resolveDenoiserArgs({ channels: C, depth: cfg.depth, kernelSize: cfg.kernelSize })) + 1;
  const rows = trainingRows(series, cfg);
  const roles = imputationScoring(rows, C, cfg, reach);
  const centred = cfg.trendCentering ? trendingTargets(series, roles.targets) : undefined;
  const scoring = centred ? { ...roles, centred } : roles;
  const split = cfg.channelGroups ? netGroups(rows, C, scoring, reach) : undefined;
  const calendar = split && cfg.calendar && cfg.calendarPerGroup ? groupsWithDailyProfile(rows, C, split.channels, scoring.targets, series.timestamps) : undefined;
  return {
    scoring,
    scaler: imputationScaler(series, cfg, scoring),
    ...(split ? { groups: split.groups } : {}),
    ...(calendar && !calendar.every(Boolean) ? { groupCalendar: calendar } : {}),
  };
}

/**
 * The targets whose level trends (levelTrend.ts) over every row given to training, the validation
 * rows included; undefined where none does, or where the rows do not span a week: seen in part, a
 * weekly swing moves one way and carries forward as a trend does (5.6 days of one did on the
 * synthetic suite's multivariate layout, and centred, that channel lost every sustained change).
 */
function trendingTargets(series: SeriesRows, targets: readonly boolean[]): boolean[] | undefined {
  const N = series.timestamps.length;
  if (!fitSpansWeek(series.timestamps[0], series.timestamps[N - 1], N)) return undefined;
  const centred = trendingChannels(series.values, series.channels.length, targets);
  return centred.some(Boolean) ? centred : undefined;
}

/** The rows `prepareSeries` fits a scaler on: those before the validation windows. `[trainRows, C]` */
function trainingRows(series: SeriesRows, cfg: ModelConfig): Float64Array {
  const { trainRows } = splitWindows(series.timestamps.length, cfg.windowLength, cfg.stride, cfg.validationFraction);
  return series.values.subarray(0, trainRows * series.channels.length);
}

/** An imputation model's scaler fitted on `series`' training rows, its conditioning channels on their levels. */
export function imputationScaler(series: SeriesRows, cfg: ModelConfig, scoring: ImputationScoring): RobustScaler {
  return conditioningScaler(fitRobustScaler(trainingRows(series, cfg), series.channels.length), scoring);
}

/** What the fit minimises: the whole-window denoising loss, or the imputation loss over this model's target channels. */
export function trainingObjective(cfg: ModelConfig, imputation: ImputationScoring | undefined): TrainingObjective {
  if (!imputation) return denoisingObjective;
  return imputationObjective({ targets: imputation.targets, imputeLength: cfg.imputeLength, fullMaskRate: cfg.fullMaskRate, reads: imputation.reads });
}
