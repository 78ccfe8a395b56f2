/**
 * Silence: an entity that stopped reporting. Measured in typical steps: `stepMs` when the stream
 * is aligned, otherwise the median of the last `historySize` inter-arrival times (every interval
 * counts, silences included, so a source that really slows down is re-learned within half the
 * history instead of alerting forever).
 *
 * Three ways to see it, all one kind so that the lifecycle folds them into one incident:
 * - `gap_marker`: a point whose values are all NaN is the stream's gap row (a hole longer than
 *   the fill limit). It triggers with score = `minSteps` (its length is not known yet).
 * - `late_reading`: a reading arriving `elapsed` ms after the previous one triggers when
 *   `elapsed / typicalStep >= minSteps`: the silence is over, and this reports it.
 * - `no_data`: `checkSilence(now)` (the service calls it periodically with the event-time clock)
 *   triggers when `(now − lastReading) / typicalStep >= minSteps`: a silence that has not ended.
 *
 * Judgement: score = silence length in typical steps (1 = on time), threshold = keepLevel =
 * `minSteps`. No channel is to blame for a silent entity, so contributions are all 0. Until the
 * typical step is known (fewer than `minIntervals` intervals, learned mode) nothing triggers
 * except gap rows.
 *
 * The result object is reused between calls.
 *
 * @example
 * const s = createSilence({ minSteps: 5 }, channels.length);
 * s.update(row.timestamp, row.values);
 * s.checkSilence(watermarkMs).triggered;
 */
import { ConfigError, DiffwatchError } from '../../errors.ts';
import type { Judgement } from '../alertLifecycle.ts';

export const SILENCE_KIND = 'silence';

export interface SilenceOptions {
  /** Silence length, in typical steps, at or above which the entity is silent. */
  minSteps: number;
  /** ms; the stream's aligned step. 0 or absent: learn the typical step from arrivals. */
  stepMs?: number;
  /** Inter-arrival times kept for the median (learned mode). Default 32. */
  historySize?: number;
  /** Intervals needed before a learned step is trusted. Default 8. */
  minIntervals?: number;
}

export interface SilenceDetail {
  reason: 'gap_marker' | 'late_reading' | 'no_data';
  /** Event time of the last point with data, epoch ms; NaN before the first one. */
  lastDataTime: number;
  /** ms the entity was silent, when known. */
  silentMs: number;
  typicalStepMs: number;
}

export interface SilenceResult extends Judgement {
  contributions: Float32Array;
  detail: SilenceDetail | null;
}

export interface Silence {
  /** Feeds one point (values of all C channels, all NaN for a gap row) at `timestamp` (epoch ms). */
  update(timestamp: number, values: ArrayLike<number>): SilenceResult;
  /** Judges the time since the last data point at event time `nowMs`; changes no state. */
  checkSilence(nowMs: number): SilenceResult;
  /** The current typical step in ms, NaN while unknown. */
  typicalStepMs(): number;
}

export function createSilence(opts: SilenceOptions, channelCount: number): Silence {
  const { minSteps, stepMs = 0, historySize = 32, minIntervals = 8 } = opts;
  validate(minSteps, stepMs, historySize, minIntervals);
  const ring = new Float64Array(historySize); // recent inter-arrival times, ms
  const scratch = new Float64Array(historySize);
  let count = 0;
  let next = 0;
  let median = NaN;
  let dirty = false;
  let lastData = NaN;
  const result: SilenceResult = { triggered: false, score: 0, threshold: minSteps, keepLevel: minSteps, contributions: new Float32Array(channelCount), detail: null };

  function typical(): number {
    if (stepMs > 0) return stepMs;
    if (count < minIntervals) return NaN;
    if (dirty) {
      // Unused slots sort to the end as +Infinity: no subarray views, no allocation.
      scratch.fill(Infinity);
      for (let i = 0; i < count; i++) scratch[i] = ring[i];
      scratch.sort();
      const mid = count >> 1;
      median = count % 2 === 1 ? scratch[mid] : (scratch[mid - 1] + scratch[mid]) / 2;
      dirty = false;
    }
    return median;
  }

  function judge(reason: SilenceDetail['reason'], silentMs: number, step: number): SilenceResult {
    const steps = silentMs / step;
    const known = Number.isFinite(steps);
    // An out-of-order point has a negative elapsed time: on time as far as silence goes.
    result.score = reason === 'gap_marker' ? (known ? Math.max(steps, minSteps) : minSteps) : known ? Math.max(steps, 0) : 0;
    result.triggered = reason === 'gap_marker' || (known && steps >= minSteps);
    result.detail = result.triggered ? { reason, lastDataTime: lastData, silentMs, typicalStepMs: step } : null;
    return result;
  }

  return {
    update(timestamp, values) {
      if (values.length !== channelCount) throw new DiffwatchError('RULE_INPUT_INVALID', `silence: expected ${channelCount} values, got ${values.length}`, { coords: { field: 'values' } });
      const step = typical();
      if (allNaN(values)) return judge('gap_marker', timestamp - lastData, step);
      const elapsed = timestamp - lastData;
      const r = judge('late_reading', elapsed, step);
      if (elapsed > 0) {
        ring[next] = elapsed;
        next = (next + 1) % historySize;
        count = Math.min(count + 1, historySize);
        dirty = true;
      }
      if (!(timestamp <= lastData)) lastData = timestamp;
      return r;
    },
    checkSilence: (nowMs) => judge('no_data', nowMs - lastData, typical()),
    typicalStepMs: typical,
  };
}

function allNaN(values: ArrayLike<number>): boolean {
  if (values.length === 0) return false;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) return false;
  return true;
}

function validate(minSteps: number, stepMs: number, historySize: number, minIntervals: number): void {
  const key = (k: string) => `detect.rules.silence.${k}`;
  if (!(Number.isFinite(minSteps) && minSteps > 1)) throw new ConfigError(key('minSteps'), `must be a finite number of steps > 1, got ${minSteps}`);
  if (!(Number.isFinite(stepMs) && stepMs >= 0)) throw new ConfigError(key('stepMs'), `must be ms >= 0 (0 = learn the step), got ${stepMs}`);
  if (!Number.isSafeInteger(historySize) || historySize < 1) throw new ConfigError(key('historySize'), `must be an integer >= 1, got ${historySize}`);
  if (!Number.isSafeInteger(minIntervals) || minIntervals < 1 || minIntervals > historySize) {
    throw new ConfigError(key('minIntervals'), `must be an integer from 1 to historySize (${historySize}), got ${minIntervals}`);
  }
}
