/**
 * The alert lifecycle: turns per-window judgements (model score against its threshold, or a
 * rule) into incidents with `open` → `ongoing` → `resolved` events, one incident per
 * (entity, kind) at a time. Every decision is made on event time, so a replay reproduces every
 * event and every id; only `detectedAt` is the wall-clock time (`deps.now`) at which an event
 * was raised, and it takes no part in any id.
 *
 * - open: the first `triggered` window opens an incident, unless the key is still within its
 *   first `warmupWindows` judged windows. Alert id = `alertId(entity, kind, startTime, modelVersion)`.
 * - ongoing: on a window at or above the keep level, at most one per `updateIntervalMs` since the
 *   last open/ongoing event, and only when the severity changed, the set of top channels changed,
 *   or the peak (score/threshold) grew by `peakGrowth` since the last event.
 * - resolved: after `resolveAfterWindows` consecutive judged windows with `score < keepLevel`
 *   and not triggered. A window between the keep level and the open level is still part of the
 *   incident and resets the count (hysteresis).
 * - cooldown: for `cooldownMs` after the resolved window's end time (inclusive), a trigger of
 *   the same key re-opens the SAME incident: an `open` event with the same alert id and the
 *   original start time (its event id differs, being stamped with the new end time). Peak and
 *   contributions carry on. After the cooldown the next trigger starts a new incident. A
 *   flapping signal therefore stays one alert id.
 * - contributions: the mean of `contributions` over the incident's windows at or above the keep
 *   level, top `topK` channels with a share > 0, largest first. A mean names the sensor that
 *   carried the incident rather than the one that happened to peak in a single noisy window;
 *   shares are reported as they are, not renormalised over the top k.
 * - inputs at or before the key's last end time are redeliveries (at-least-once) and are ignored.
 *
 * @example
 * const lc = createAlertLifecycle({ cooldownMs: 300_000 });
 * const events = lc.update({ entityId: 'pump-7', kind: 'score', endTime, score, threshold: 6, keepLevel: 4,
 *   triggered: score > 6, contributions, channels, modelVersion: 'baseline@1' });
 */
import { ConfigError, DiffwatchError } from '../errors.ts';
import { rootLogger } from '../log.ts';
import { alertId, eventId } from '../sinks/alertId.ts';
import type { AnomalyEvent } from '../types.ts';
import { DEFAULT_SEVERITY_LEVELS, severityOfRatio, validateSeverityLevels, type Severity, type SeverityLevels } from './severity.ts';

/** What a detector says about one window or point. */
export interface Judgement {
  /** The signal crossed its open level: opens (or, in cooldown, re-opens) an incident. */
  triggered: boolean;
  /** Finite. */
  score: number;
  /** Open level, > 0: severity is the incident's peak score/threshold. */
  threshold: number;
  /** Keep level, <= threshold: an open incident holds while score >= keepLevel. */
  keepLevel: number;
  /** Per-channel share of the evidence, length C, summing to 1 or all 0. */
  contributions: ArrayLike<number>;
}

export interface LifecycleInput extends Judgement {
  entityId: string;
  kind: string;
  /** Event time of the window's last point, integer epoch ms. */
  endTime: number;
  channels: readonly string[];
  modelVersion: string;
  /** The detector cannot judge (scorer warm-up, gap window): neither opens nor counts toward resolution. */
  warmup?: boolean;
  /** What a rule found (channel, value...), copied to open and ongoing events. */
  detail?: unknown;
  /** The window's values and the model's reconstruction, [L, C] row-major. */
  explanation?: { values: ArrayLike<number>; reconstruction?: ArrayLike<number> };
}

export interface Explanation {
  channels: string[];
  values: number[]; // [L, C] row-major
  reconstruction?: number[]; // [L, C] row-major
}

/** An AnomalyEvent plus the optional payloads that schemas/anomaly-event.avsc does not carry. */
export interface AlertEvent extends AnomalyEvent {
  /** The incident's id; equal to `alertId(entityId, kind, startTime, modelVersion)`. */
  alertId: string;
  detail?: unknown;
  explanation?: Explanation;
}

export interface AlertLifecycleOptions {
  /** Consecutive triggered windows that open an incident (1: the first one does); a single-window blip opens nothing. */
  openAfterWindows: number;
  /** Consecutive judged windows below the keep level that resolve an incident. */
  resolveAfterWindows: number;
  /** ms of event time; at most one `ongoing` event per incident per interval. */
  updateIntervalMs: number;
  /** Factor the peak ratio must grow by since the last event to justify an `ongoing` on its own. */
  peakGrowth: number;
  /** ms of event time after a resolution during which a trigger re-opens the same incident. */
  cooldownMs: number;
  /** Judged windows per (entity, kind) that may not open an incident (history still settling). */
  warmupWindows: number;
  /** Channels listed per event. */
  topK: number;
  /** Attach the window's values and reconstruction to open and ongoing events. */
  explain: boolean;
  severity: SeverityLevels;
}

/** What the lifecycle reads from outside, injected so that tests control it. */
export interface LifecycleDeps {
  /** Wall clock, epoch ms, stamped on each event as `detectedAt`. Default `Date.now`. */
  now?: () => number;
}

export const DEFAULT_LIFECYCLE_OPTIONS: Readonly<AlertLifecycleOptions> = Object.freeze({
  openAfterWindows: 1,
  resolveAfterWindows: 3,
  updateIntervalMs: 60_000,
  peakGrowth: 1.5,
  cooldownMs: 5 * 60_000,
  warmupWindows: 0,
  topK: 3,
  explain: false,
  severity: DEFAULT_SEVERITY_LEVELS,
});

/** One incident; plain JSON, so that the state can be snapshotted as it is. */
interface Incident {
  alertId: string;
  startTime: number;
  modelVersion: string;
  /** null while active; end time of the resolving window while cooling down. */
  resolvedAt: number | null;
  peakRatio: number;
  belowCount: number;
  channels: string[];
  contribSum: number[];
  contribCount: number;
  lastEmitTime: number;
  lastSeverity: Severity;
  lastPeakRatio: number;
  /** Top channel names of the last event, sorted, for change detection. */
  lastTop: string[];
}

interface KeyState {
  entityId: string;
  kind: string;
  lastEndTime: number | null;
  judged: number;
  /** Consecutive triggered windows so far (absent in older snapshots: 0). */
  streak?: number;
  incident: Incident | null;
}

export interface LifecycleSnapshot {
  version: 1;
  keys: KeyState[];
}

export interface AlertLifecycle {
  /** Events (0..n) caused by one window's judgement. */
  update(input: LifecycleInput): readonly AlertEvent[];
  /**
   * A JSON-serialisable copy of the state, of one entity when `entityId` is given (a record
   * per entity suits a compacted topic keyed by entity). Snapshots of several entities restore
   * together by concatenating their `keys`.
   */
  snapshot(entityId?: string): LifecycleSnapshot;
  /** Drops an entity (the stream evicted it); an active incident is dropped without a resolved event. */
  forget(entityId: string): void;
  /** Replaces the state of the entities in `snapshot` (e.g. one entity's record from the state topic). */
  restore(snapshot: LifecycleSnapshot): void;
}

// Most windows change nothing: one shared, frozen empty answer instead of an array per window.
const NONE: readonly AlertEvent[] = Object.freeze([]);
const log = rootLogger.namespace('detect.lifecycle');

export function createAlertLifecycle(options: Partial<AlertLifecycleOptions> = {}, restore?: LifecycleSnapshot, deps: LifecycleDeps = {}): AlertLifecycle {
  const o: AlertLifecycleOptions = { ...DEFAULT_LIFECYCLE_OPTIONS, ...options };
  const now = deps.now ?? Date.now;
  validateOptions(o);
  const states = new Map<string, Map<string, KeyState>>(); // entity → kind → state
  const restoreKeys = (snap: LifecycleSnapshot) => {
    const keys = checkSnapshot(snap).keys;
    for (const id of new Set(keys.map((k) => k.entityId))) states.delete(id);
    for (const k of keys) keyMap(states, k.entityId).set(k.kind, structuredClone(k));
  };
  if (restore) restoreKeys(restore);

  function emit(inc: Incident, input: LifecycleInput, state: AnomalyEvent['state']): AlertEvent[] {
    const contributions = topContributions(inc, o.topK);
    const severity = severityOfRatio(inc.peakRatio, o.severity);
    const { entityId, kind, endTime, score, threshold } = input;
    // The ids hash event times only, never `detectedAt`: a redelivered alert keeps its id.
    const ev: AlertEvent = { eventId: eventId(inc.alertId, state, endTime), alertId: inc.alertId, entityId, kind, state, severity, startTime: inc.startTime, endTime, detectedAt: now(), score, threshold, modelVersion: inc.modelVersion, contributions };
    if (state === 'resolved') return [ev];
    Object.assign(inc, { lastEmitTime: endTime, lastSeverity: severity, lastPeakRatio: inc.peakRatio, lastTop: topNames(contributions) });
    if (input.detail !== undefined && input.detail !== null) ev.detail = input.detail;
    if (o.explain && input.explanation) ev.explanation = explanationOf(input);
    return [ev];
  }

  function changed(inc: Incident): boolean {
    if (severityOfRatio(inc.peakRatio, o.severity) !== inc.lastSeverity) return true;
    if (inc.peakRatio >= inc.lastPeakRatio * o.peakGrowth) return true;
    const top = topNames(topContributions(inc, o.topK));
    return top.length !== inc.lastTop.length || top.some((c, i) => c !== inc.lastTop[i]);
  }

  return {
    restore: restoreKeys,
    update(input) {
      checkInput(input);
      const st = stateOf(states, input.entityId, input.kind);
      if (st.lastEndTime !== null && input.endTime <= st.lastEndTime) {
        log.debug('redelivered window ignored', { entityId: input.entityId, kind: input.kind, endTime: input.endTime, lastEndTime: st.lastEndTime });
        return NONE;
      }
      st.lastEndTime = input.endTime;
      if (input.warmup) return NONE;
      st.judged++;
      st.streak = input.triggered ? (st.streak ?? 0) + 1 : 0;
      let inc = st.incident;
      if (inc && inc.resolvedAt !== null && input.endTime - inc.resolvedAt > o.cooldownMs) inc = st.incident = null;
      if (!inc) {
        if (!input.triggered || st.judged <= o.warmupWindows || st.streak < o.openAfterWindows) return NONE;
        st.incident = inc = newIncident(input);
        accumulate(inc, input);
        return emit(inc, input, 'open');
      }
      if (inc.resolvedAt !== null) {
        if (!input.triggered) return NONE;
        inc.resolvedAt = null;
        inc.belowCount = 0;
        accumulate(inc, input);
        return emit(inc, input, 'open');
      }
      if (!input.triggered && input.score < input.keepLevel) {
        if (++inc.belowCount < o.resolveAfterWindows) return NONE;
        inc.resolvedAt = input.endTime;
        return emit(inc, input, 'resolved');
      }
      inc.belowCount = 0;
      accumulate(inc, input);
      return input.endTime - inc.lastEmitTime >= o.updateIntervalMs && changed(inc) ? emit(inc, input, 'ongoing') : NONE;
    },
    snapshot: (entityId) => {
      const maps = entityId === undefined ? [...states.values()] : [states.get(entityId) ?? new Map<string, KeyState>()];
      return { version: 1, keys: maps.flatMap((m) => [...m.values()].map((k) => structuredClone(k))) };
    },
    forget: (entityId) => void states.delete(entityId),
  };
}

function newIncident(input: LifecycleInput): Incident {
  const C = input.channels.length;
  return {
    alertId: alertId(input.entityId, input.kind, input.endTime, input.modelVersion),
    startTime: input.endTime,
    modelVersion: input.modelVersion,
    resolvedAt: null,
    peakRatio: 0,
    belowCount: 0,
    channels: [...input.channels],
    contribSum: new Array<number>(C).fill(0),
    contribCount: 0,
    lastEmitTime: input.endTime,
    lastSeverity: 'info',
    lastPeakRatio: 0,
    lastTop: [],
  };
}

function accumulate(inc: Incident, input: LifecycleInput): void {
  inc.peakRatio = Math.max(inc.peakRatio, input.score / input.threshold);
  const ch = input.channels;
  // A changed channel list makes earlier shares meaningless; start the mean again.
  if (!sameChannels(ch, inc.channels)) {
    inc.channels = [...ch];
    inc.contribSum = new Array<number>(ch.length).fill(0);
    inc.contribCount = 0;
  }
  for (let c = 0; c < ch.length; c++) inc.contribSum[c] += input.contributions[c];
  inc.contribCount++;
}

function sameChannels(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function topContributions(inc: Incident, topK: number): AnomalyEvent['contributions'] {
  const n = Math.max(inc.contribCount, 1);
  return inc.channels
    .map((channel, c) => ({ channel, share: inc.contribSum[c] / n }))
    .filter((x) => x.share > 0)
    .sort((a, b) => b.share - a.share || (a.channel < b.channel ? -1 : 1))
    .slice(0, topK);
}

const topNames = (top: AnomalyEvent['contributions']): string[] => top.map((x) => x.channel).sort();

function explanationOf(input: LifecycleInput): Explanation {
  const e = input.explanation!;
  const out: Explanation = { channels: [...input.channels], values: Array.from(e.values) };
  if (e.reconstruction) out.reconstruction = Array.from(e.reconstruction);
  return out;
}

function keyMap(states: Map<string, Map<string, KeyState>>, entityId: string): Map<string, KeyState> {
  let m = states.get(entityId);
  if (!m) states.set(entityId, (m = new Map()));
  return m;
}

function stateOf(states: Map<string, Map<string, KeyState>>, entityId: string, kind: string): KeyState {
  const m = keyMap(states, entityId);
  let st = m.get(kind);
  if (!st) m.set(kind, (st = { entityId, kind, lastEndTime: null, judged: 0, incident: null }));
  return st;
}

function invalid(input: LifecycleInput, field: string, message: string): never {
  throw new DiffwatchError('ALERT_INPUT_INVALID', `${field}: ${message}`, { coords: { entityId: input.entityId, kind: input.kind, field } });
}

function checkInput(i: LifecycleInput): void {
  if (!Number.isSafeInteger(i.endTime)) invalid(i, 'endTime', `must be integer epoch ms, got ${i.endTime}`);
  if (!Number.isFinite(i.score)) invalid(i, 'score', `must be finite, got ${i.score}`);
  if (!(Number.isFinite(i.threshold) && i.threshold > 0)) invalid(i, 'threshold', `must be finite and > 0, got ${i.threshold}`);
  if (!(Number.isFinite(i.keepLevel) && i.keepLevel <= i.threshold)) invalid(i, 'keepLevel', `must be finite and <= threshold ${i.threshold}, got ${i.keepLevel}`);
  if (i.contributions.length !== i.channels.length) invalid(i, 'contributions', `length ${i.contributions.length} != ${i.channels.length} channels`);
}

function validateOptions(o: AlertLifecycleOptions): void {
  const key = (k: string) => `detect.lifecycle.${k}`;
  const int = (k: keyof AlertLifecycleOptions, min: number) => {
    const v = o[k] as number;
    if (!Number.isSafeInteger(v) || v < min) throw new ConfigError(key(k), `must be an integer >= ${min}, got ${v}`);
  };
  int('openAfterWindows', 1);
  int('resolveAfterWindows', 1);
  int('updateIntervalMs', 0);
  int('cooldownMs', 0);
  int('warmupWindows', 0);
  int('topK', 1);
  if (!(Number.isFinite(o.peakGrowth) && o.peakGrowth > 1)) throw new ConfigError(key('peakGrowth'), `must be a finite factor > 1, got ${o.peakGrowth}`);
  validateSeverityLevels(o.severity, key('severity'));
}

function checkSnapshot(s: LifecycleSnapshot): LifecycleSnapshot {
  const ok = s !== null && typeof s === 'object' && s.version === 1 && Array.isArray(s.keys) && s.keys.every((k) => typeof k?.entityId === 'string' && typeof k.kind === 'string' && typeof k.judged === 'number');
  if (!ok) throw new DiffwatchError('ALERT_SNAPSHOT_INVALID', `unsupported lifecycle snapshot (expected version 1 with keys), got version ${JSON.stringify((s as { version?: unknown })?.version)}`, { coords: { field: 'version' } });
  return s;
}
