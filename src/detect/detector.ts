/**
 * The detection stage: turns scored windows into per-window decisions and alert events.
 * Per entity it keeps an adaptive threshold (SPOT/DSPOT/fixed, with calibration and warm-up),
 * the rules (flatline, out-of-range, silence) fed with each new point, and one alert lifecycle
 * shared by all kinds. Its state per entity is plain JSON, for the compacted state topic.
 *
 * A window that ends at or before the last window an entity has already judged (a replay after
 * a restart or a rebalance) is written again with the current levels but changes no state and
 * raises no event, so a restart neither repeats alerts nor warms up again.
 */
import type { DetectConfig } from '../config/schema.ts';
import type { ScoredWindow, Window, WindowScore } from '../types.ts';
import { createAlertLifecycle, type AlertEvent, type AlertLifecycle, type LifecycleSnapshot } from './alertLifecycle.ts';
import type { ValidationQuantiles } from './calibration.ts';
import { createFlatline, createOutOfRange, createSilence, FLATLINE_KIND, OUT_OF_RANGE_KIND, ruleInput, SILENCE_KIND, type Flatline, type OutOfRange, type Silence } from './rules/index.ts';
import { OnsetScorer, type OnsetScorerSnapshot } from './onsetScorer.ts';
import { createThresholdState, ThresholdState, type ThresholdStateSnapshot } from './thresholdState.ts';

/** The kind of alerts raised by the scorer's threshold. */
export const MODEL_ALERT_KIND = 'model';

/** The onset judge's state of one entity. */
interface OnsetState {
  scorer: OnsetScorer;
  /** Windows judged (not warm-up scores): the judge's own warm-up counts them. */
  seen: number;
  /** An excursion is open: from an onset while the gated evidence stays at the level. */
  excursion: boolean;
}

/** What survives a restart for one entity. */
export interface EntityDetectorSnapshot {
  v: 1;
  entityId: string;
  modelVersion: string;
  /** End time of the last judged window, epoch ms. */
  lastWindowEnd: number;
  threshold: ThresholdStateSnapshot;
  /** Present with `detect.judge: onset`. */
  onset?: { scorer: OnsetScorerSnapshot; seen: number; excursion: boolean };
  lifecycle: LifecycleSnapshot;
}

interface EntityState {
  modelVersion: string;
  lastWindowEnd: number;
  threshold: ThresholdState;
  onset?: OnsetState;
  /** Built on the first window, when the channels are known; their state is short-lived and not kept. */
  rules?: { flatline?: Flatline; outOfRange?: OutOfRange; silence?: Silence; lastPoint: number };
}

export interface DetectorOptions {
  /** Validation score quantiles of the entity's model: the calibration's starting point. */
  prior?: (entityId: string) => ValidationQuantiles | undefined;
  /** The saved state of an entity seen for the first time (e.g. loaded from the state topic). */
  lookup?: (entityId: string) => EntityDetectorSnapshot | undefined;
  /** Wall clock, epoch ms: the `detectedAt` of alert events. Default `Date.now`. */
  now?: () => number;
}

export interface Detector {
  update(windows: readonly Window[], scores: readonly WindowScore[], meta: { scorer: string; modelVersion: string }): { scored: ScoredWindow[]; events: AlertEvent[] };
  /** Entities whose state changed since the last call, with their snapshots. */
  takeDirty(): EntityDetectorSnapshot[];
  snapshot(entityId: string): EntityDetectorSnapshot | undefined;
  /** Drop an entity (evicted): its new owner restores it from the state topic. */
  forget(entityId: string): void;
}

/** The newest point of a window, `[C]`. */
function newestPoint(w: Window): Float32Array {
  const C = w.channels.length;
  return w.values.subarray((w.length - 1) * C, w.length * C);
}

export function createDetector(cfg: DetectConfig, opts: DetectorOptions = {}): Detector {
  const lifecycle: AlertLifecycle = createAlertLifecycle(cfg.lifecycle, undefined, { now: opts.now });
  const entities = new Map<string, EntityState>();
  const dirty = new Set<string>();

  function entity(w: Window, modelVersion: string): EntityState {
    let e = entities.get(w.entityId);
    if (e) return e;
    const saved = opts.lookup?.(w.entityId);
    if (saved) {
      lifecycle.restore(saved.lifecycle);
      e = { modelVersion: saved.modelVersion, lastWindowEnd: saved.lastWindowEnd, threshold: ThresholdState.restore(saved.threshold) };
      if (saved.onset) e.onset = { scorer: OnsetScorer.restore(cfg.onsetScorer, saved.onset.scorer), seen: saved.onset.seen, excursion: saved.onset.excursion };
    } else {
      e = { modelVersion, lastWindowEnd: -Infinity, threshold: createThresholdState(cfg.threshold, opts.prior?.(w.entityId)) };
    }
    entities.set(w.entityId, e);
    return e;
  }

  function rulesOf(e: EntityState, w: Window) {
    if (e.rules) return e.rules;
    const r = cfg.rules;
    e.rules = {
      flatline: r.flatline.enabled ? createFlatline({ minPoints: r.flatline.minPoints, epsilon: r.flatline.epsilon }, w.channels) : undefined,
      outOfRange: Object.keys(r.outOfRange.limits).length > 0 ? createOutOfRange(r.outOfRange.limits, w.channels) : undefined,
      silence: r.silence.enabled ? createSilence({ minSteps: r.silence.minSteps }, w.channels.length) : undefined,
      lastPoint: -Infinity,
    };
    return e.rules;
  }

  /** Feed the window's points not seen before to the rules; collect their events. */
  function runRules(e: EntityState, w: Window, events: AlertEvent[]): void {
    const rules = rulesOf(e, w);
    const C = w.channels.length;
    for (let i = 0; i < w.length; i++) {
      const t = w.timestamps[i];
      if (t <= rules.lastPoint) continue;
      rules.lastPoint = t;
      const values = w.values.subarray(i * C, (i + 1) * C);
      const at = { entityId: w.entityId, endTime: t, channels: w.channels };
      if (rules.silence) events.push(...lifecycle.update(ruleInput(rules.silence.update(t, values), { ...at, kind: SILENCE_KIND })));
      if (Number.isNaN(values[0])) continue; // a gap row: only silence has something to say
      if (rules.flatline) events.push(...lifecycle.update(ruleInput(rules.flatline.update(values), { ...at, kind: FLATLINE_KIND })));
      if (rules.outOfRange) events.push(...lifecycle.update(ruleInput(rules.outOfRange.update(values), { ...at, kind: OUT_OF_RANGE_KIND })));
    }
  }

  function judge(w: Window, s: WindowScore, meta: { scorer: string; modelVersion: string }, events: AlertEvent[]): ScoredWindow {
    const modelVersion = s.modelVersion ?? meta.modelVersion;
    const e = entity(w, modelVersion);
    const base = { window: w, score: s, scorer: meta.scorer, modelVersion };
    if (w.endTime <= e.lastWindowEnd) {
      // A replay: report it with today's levels, learn nothing, raise nothing.
      return { ...base, threshold: e.threshold.currentThreshold(), isAnomaly: false, detectorState: 'replay' };
    }
    e.lastWindowEnd = w.endTime;
    if (e.modelVersion !== modelVersion && !s.warmup) {
      // Each model version's scores get a threshold of their own, calibrated from its validation
      // scores: a fine-tune or a new normal can move the raw scale several-fold, and SPOT refits
      // only above its initial level, so levels learned on the previous version's scores can stay
      // above all of the new ones. An incident open at the swap ends at the previous levels.
      e.threshold = createThresholdState(cfg.threshold, opts.prior?.(w.entityId)).carryOpenIncident(e.threshold);
      e.modelVersion = modelVersion;
    }
    dirty.add(w.entityId);
    runRules(e, w, events);
    const onset = cfg.judge === 'onset' ? (e.onset ??= newOnsetState(w)) : undefined;
    if (s.warmup || w.hasGap || !Number.isFinite(s.score)) {
      // The value range still learns the newest point of a warm-up window (a cold start's rows).
      if (onset && !w.hasGap) onset.scorer.observe(newestPoint(w));
      return { ...base, threshold: NaN, isAnomaly: false, detectorState: 'warmup' };
    }
    if (onset) return judgeOnset(onset, w, s, base, events);
    const d = e.threshold.update(s.score);
    if (d.threshold !== null && d.keepLevel !== null && d.threshold > 0) {
      events.push(...modelLifecycle(w, s, modelVersion, { triggered: d.triggered, score: s.score, threshold: d.threshold, keepLevel: Math.max(0, d.keepLevel), warmup: d.state === 'warmup' && !d.carried }));
    }
    return { ...base, threshold: d.threshold ?? NaN, isAnomaly: d.isOpen, detectorState: d.state, likelihood: d.likelihood, surprise: d.surprise };
  }

  /** The model's alert lifecycle for one judged window, with the levels its judge decided. */
  function modelLifecycle(w: Window, s: WindowScore, modelVersion: string, levels: { triggered: boolean; score: number; threshold: number; keepLevel: number; warmup: boolean }): readonly AlertEvent[] {
    return lifecycle.update({ entityId: w.entityId, kind: MODEL_ALERT_KIND, endTime: w.endTime, channels: w.channels, modelVersion, contributions: s.channelContributions, ...levels });
  }

  /** A new onset state: the first window's older rows seed the value range (they precede its newest row). */
  function newOnsetState(w: Window): OnsetState {
    const scorer = new OnsetScorer(cfg.onsetScorer);
    const C = w.channels.length;
    for (let i = 0; i < w.length - 1; i++) scorer.observe(w.values.subarray(i * C, (i + 1) * C));
    return { scorer, seen: 0, excursion: false };
  }

  /**
   * The onset judge: rank-calibrated evidence, one trigger per excursion (onsetScorer.ts). The
   * lifecycle sees the gated evidence against the gate's level, so an incident opens at an onset
   * and resolves once the evidence has stayed below the level for its quiet windows.
   */
  function judgeOnset(o: OnsetState, w: Window, s: WindowScore, base: Omit<ScoredWindow, 'threshold' | 'isAnomaly'>, events: AlertEvent[]): ScoredWindow {
    const d = o.scorer.update(s.pointScores, newestPoint(w));
    const warm = o.seen++ < cfg.threshold.warmupWindows;
    const level = cfg.onsetScorer.gate.level;
    o.excursion = !warm && (d.onset || (o.excursion && d.gated >= level));
    events.push(...modelLifecycle(w, s, base.modelVersion, { triggered: !warm && d.onset, score: d.gated, threshold: level, keepLevel: level, warmup: warm }));
    return { ...base, threshold: level, isAnomaly: o.excursion, detectorState: warm ? 'warmup' : o.excursion ? 'anomalous' : 'normal', likelihood: d.score, surprise: d.evidence };
  }

  function snapshot(entityId: string): EntityDetectorSnapshot | undefined {
    const e = entities.get(entityId);
    if (!e) return undefined;
    const onset = e.onset && { scorer: e.onset.scorer.snapshot(), seen: e.onset.seen, excursion: e.onset.excursion };
    return { v: 1, entityId, modelVersion: e.modelVersion, lastWindowEnd: e.lastWindowEnd, threshold: e.threshold.snapshot(), ...(onset ? { onset } : {}), lifecycle: lifecycle.snapshot(entityId) };
  }

  return {
    update(windows, scores, meta) {
      const events: AlertEvent[] = [];
      const scored = windows.map((w, i) => judge(w, scores[i], meta, events));
      return { scored, events };
    },
    takeDirty() {
      const out = [...dirty].map((id) => snapshot(id)).filter((s): s is EntityDetectorSnapshot => s !== undefined);
      dirty.clear();
      return out;
    },
    snapshot,
    forget(entityId) {
      entities.delete(entityId);
      lifecycle.forget(entityId);
      dirty.delete(entityId);
    },
  };
}
