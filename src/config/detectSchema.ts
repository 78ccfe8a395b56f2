/**
 * The `detect` section: how a window's score becomes a decision, and the alert lifecycle.
 * The shapes, types and defaults are here; the ranges of the judges' settings are checked by the
 * modules that own them (src/detect/*), from `checkDetect` in schema.ts, so that each rule lives once.
 */
import { z } from 'zod';
import { DEFAULT_LIFECYCLE_OPTIONS, type AlertLifecycleOptions } from '../detect/alertLifecycle.ts';
import { CALIBRATION_DEFAULTS, type CalibrationConfig } from '../detect/calibration.ts';
import { ONSET_SCORER_DEFAULTS, type OnsetScorerConfig } from '../detect/onsetScorer.ts';
import type { ChannelLimits } from '../detect/rules/outOfRange.ts';
import { THRESHOLD_STATE_DEFAULTS, type ThresholdStateConfig } from '../detect/thresholdState.ts';
import { anyNum as n, bool, expected, int, num, oneOf, str } from './fields.ts';
import type { Same } from './sameType.ts';

const cal = CALIBRATION_DEFAULTS;
const calibrationSchema = z
  .strictObject({
    shortWindow: n().default(cal.shortWindow).describe('Scores averaged for the short-term mean (Numenta\'s averagingWindow).'),
    longWindow: n().default(cal.longWindow).describe('Horizon, in scores, of the long-term mean and variance (the EW weight is 1 / longWindow).'),
    minHistory: n().default(cal.minHistory).describe('Scores needed before the likelihood means anything, when there is no prior.'),
    minStd: n().default(cal.minStd).describe('Floor of std_long, in transformed units: a near-constant history must not make noise look anomalous.'),
    scale: z
      .union([z.number(), z.literal('auto')], { error: expected('a number > 0 or "auto"') })
      .default(cal.scale)
      .describe('Raw-score unit of the transform; auto: the prior\'s p50, else the median of the first minHistory scores.'),
  })
  .prefault({});

const th = THRESHOLD_STATE_DEFAULTS;
const thresholdSchema = z
  .strictObject({
    method: oneOf(['spot', 'dspot', 'fixed']).default(th.method).describe('SPOT, DSPOT (SPOT on the drift from a moving average) or a fixed level.'),
    warmupWindows: n().default(th.warmupWindows).describe('Windows seen before any alert (both judges); the threshold judge counts them again for each new model version (docs/detection.md). The SPOT calibration (and DSPOT\'s window) may extend it.'),
    q: n().default(th.q).describe('SPOT risk: the false-alarm probability per window that z_q targets.'),
    nInit: n().default(th.nInit).describe('Windows used for SPOT\'s initial calibration.'),
    initLevel: n().default(th.initLevel).describe('Quantile of the calibration scores taken as the initial threshold t.'),
    maxPeaks: n().default(th.maxPeaks).describe('Excesses kept for the GPD fit (bounds the refit cost).'),
    refitEvery: n().default(th.refitEvery).describe('Refit the GPD every this many tail events.'),
    censorAlarms: bool().default(th.censorAlarms).describe('Keep alarms in the tail fit as censored excesses (see src/detect/spot.ts).'),
    depth: n().default(th.depth).describe('DSPOT: depth of the moving average of normal scores.'),
    fixedThreshold: n().default(th.fixedThreshold).describe('method fixed: the open level, in raw score units.'),
    keepFraction: z
      .number({ error: expected('a number in (0, 1] or null') })
      .nullable()
      .default(th.keepFraction)
      .describe('Keep level as a fraction of the open level; null: SPOT\'s t (for fixed: the open level itself).'),
    calibration: calibrationSchema.describe('The score calibration (src/detect/calibration.ts).'),
  })
  .prefault({});

const os = ONSET_SCORER_DEFAULTS;
const onsetScorerSchema = z
  .strictObject({
    recentPoints: n().default(os.recentPoints).describe('Newest point scores of a window averaged into its raw score (1: the window score itself).'),
    tailRank: z
      .strictObject({
        minHistory: n().default(os.tailRank.minHistory).describe('Scores seen before a surprise is given (0 before): too few make every score a record.'),
        capacity: n().default(os.tailRank.capacity).describe('Scores kept, the newest (2 bytes each per entity, as 16-bit log-scale codes); at least minHistory.'),
        excessWeight: n().default(os.tailRank.excessWeight).describe('Digits of surprise per decade by which a record exceeds the previous maximum.'),
      })
      .prefault({})
      .describe('The rank of a raw score among the recent ones, in digits of surprise (src/detect/tailRank.ts).'),
    rangeNovelty: z
      .strictObject({
        minPoints: n().default(os.rangeNovelty.minPoints).describe('Points per channel seen before any excess is reported (the first values define the range).'),
      })
      .prefault({})
      .describe('The excess of the newest point over the range seen so far (src/detect/rangeNovelty.ts).'),
    noveltyBonus: n().default(os.noveltyBonus).describe('Evidence, in digits of surprise, added when the newest point leaves the range seen so far by noveltyRamp or more.'),
    noveltyRamp: n().default(os.noveltyRamp).describe('Excess, in ranges, that earns the full bonus; a smaller excess earns its share of it.'),
    levelShift: z
      .strictObject({
        weight: n().default(os.levelShift.weight).describe('Digits of evidence per digit of surprise beyond offset; 0 turns the check off.'),
        offset: n().default(os.levelShift.offset).describe('Digits of surprise that earn nothing.'),
        cap: n().default(os.levelShift.cap).describe('Most evidence it adds.'),
        recent: n().default(os.levelShift.recent).describe('Values whose mean is tested; at most window.'),
        window: n().default(os.levelShift.window).describe('Values of history the mean and deviation come from.'),
        refitEvery: n().default(os.levelShift.refitEvery).describe('Points between two refits of the history\'s mean and deviation.'),
        minPoints: n().default(os.levelShift.minPoints).describe('Values of history needed before the first test (also after a rebase); at most window.'),
      })
      .prefault({})
      .describe('The mean of the newest values against a long history (src/detect/levelShift.ts).'),
    gate: z
      .strictObject({
        holdWindows: n().default(os.gate.holdWindows).describe('Windows an excursion\'s maximum and an onset are remembered for (the refractory period).'),
        recentFactor: n().default(os.gate.recentFactor).describe('A window is fresh when its evidence exceeds this times the recent maximum.'),
        damping: n().default(os.gate.damping).describe('Factor applied to the evidence of a window that is not fresh, in [0, 1].'),
        level: n().default(os.gate.level).describe('Evidence at or above which a fresh window opens an onset (the alert level).'),
      })
      .prefault({})
      .describe('One onset per excursion (src/detect/onsetGate.ts).'),
    half: n().default(os.half).describe('Evidence at which the bounded score is 0.5.'),
  })
  .prefault({});

const lc = DEFAULT_LIFECYCLE_OPTIONS;
const lifecycleSchema = z
  .strictObject({
    openAfterWindows: n().default(lc.openAfterWindows).describe('Consecutive triggered windows that open an incident (1: the first one does; must be 1 with judge onset); a single-window blip opens nothing.'),
    resolveAfterWindows: n().default(lc.resolveAfterWindows).describe('Consecutive judged windows below the keep level that resolve an incident.'),
    updateIntervalMs: n().default(lc.updateIntervalMs).describe('ms of event time; at most one `ongoing` event per incident per interval.'),
    peakGrowth: n().default(lc.peakGrowth).describe('Factor the peak ratio must grow by since the last event to justify an `ongoing` on its own.'),
    cooldownMs: n().default(lc.cooldownMs).describe('ms of event time after a resolution during which a trigger re-opens the same incident.'),
    warmupWindows: n().default(lc.warmupWindows).describe('Judged windows per (entity, kind) that may not open an incident (history still settling).'),
    topK: n().default(lc.topK).describe('Channels listed per event.'),
    explain: bool().default(lc.explain).describe('Attach the window\'s values and reconstruction to open and ongoing events.'),
    severity: z
      .strictObject({
        warning: n().default(lc.severity.warning).describe('peak/threshold at or above which an incident is a `warning`.'),
        critical: n().default(lc.severity.critical).describe('peak/threshold at or above which an incident is `critical`; at least warning.'),
      })
      .prefault({})
      .describe('Severity of an incident by its peak score over the threshold (src/detect/severity.ts).'),
  })
  .prefault({});

const limits = z.strictObject({ min: n().optional(), max: n().optional() }, { error: expected('an object such as {"min": 0, "max": 120}') });

export const detectSchema = z
  .strictObject({
    stateTopic: str().default('diffwatch.state').describe('Compacted topic holding each entity\'s detector state, keyed by entity. Env: DIFFWATCH_STATE_TOPIC.'),
    judge: oneOf(['threshold', 'onset'])
      .default('threshold')
      .describe('How a window\'s score becomes a decision: threshold, the calibrated likelihood and SPOT/DSPOT levels; or onset, the rank-calibrated, onset-gated evidence of onsetScorer: one alert per excursion (docs/detection.md, "Onset judging").'),
    threshold: thresholdSchema.describe('The adaptive threshold per entity (src/detect/thresholdState.ts); its warmupWindows applies to both judges.'),
    onsetScorer: onsetScorerSchema.describe('The onset judge (src/detect/onsetScorer.ts); its evidence and levels are in digits of surprise.'),
    lifecycle: lifecycleSchema.describe('The alert lifecycle (src/detect/alertLifecycle.ts).'),
    rules: z
      .strictObject({
        flatline: z
          .strictObject({
            enabled: bool().default(true).describe('Report stuck sensors.'),
            minPoints: int(2).default(60).describe('Points within epsilon that make a flatline; more than stream.maxFillSteps.'),
            epsilon: num(0).default(0).describe('Channel units; the largest change that still counts as stuck.'),
          })
          .prefault({})
          .describe('A stuck sensor: a channel that varied before stays within epsilon for minPoints points.'),
        outOfRange: z
          .strictObject({
            limits: z.record(z.string(), limits, { error: expected('an object of channel → {min, max}') }).default({}).describe('Per-channel limits, channel → {min?, max?} in channel units; empty: no range rule.'),
          })
          .prefault({})
          .describe('Values outside fixed per-channel limits.'),
        silence: z
          .strictObject({
            enabled: bool().default(true).describe('Report entities that stop sending.'),
            minSteps: int(1).default(10).describe('Typical steps (learned from arrivals, or stream.stepMs) without data that make a silence.'),
          })
          .prefault({})
          .describe('No data for minSteps typical steps.'),
      })
      .prefault({})
      .describe('Rules judged beside the model.'),
  })
  .prefault({});

export type DetectConfig = z.output<typeof detectSchema>;

// The shapes above mirror the detect modules' own config types: a key added or removed there breaks this.
type Detect = DetectConfig;
export const sameAsDetectModules: [
  Same<Detect['threshold'], ThresholdStateConfig>,
  Same<Detect['threshold']['calibration'], CalibrationConfig>,
  Same<Detect['onsetScorer'], OnsetScorerConfig>,
  Same<Detect['lifecycle'], AlertLifecycleOptions>,
  Same<Detect['rules']['outOfRange']['limits'][string], ChannelLimits>,
] = [true, true, true, true, true];
