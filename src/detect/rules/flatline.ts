/**
 * Flatline: a stuck sensor. A channel is flat when its last `minPoints` or more consecutive
 * points all stay within `epsilon` of the first point of the run (measured against the run's
 * first value, not point to point, so a slow drift in tiny steps is not mistaken for a stuck
 * value).
 *
 * A channel fires only if it varied before the current run (some earlier run ended). A channel
 * that has been constant since its first point, such as a setpoint or a firmware version, is
 * legitimately constant and never fires. A flat channel stays triggered until its value moves.
 *
 * NaN points (a channel not reported yet, gap rows) neither extend nor end a run; the channel
 * is judged on the run it is in. Forward-filled
 * rows repeat the previous value, so `minPoints` must exceed the stream's `maxFillSteps`; pass
 * `maxFillSteps` to have that checked.
 *
 * Judgement: score = the longest flat run (points) among channels that varied before,
 * threshold = keepLevel = `minPoints`, so severity grows with how long the sensor has been stuck
 * (2 × minPoints is critical). Each flat channel gets an equal share of the contributions.
 *
 * The result object and its `contributions` are reused between calls: read them before the next
 * `update` (the lifecycle copies what it keeps).
 *
 * @example
 * const flat = createFlatline({ minPoints: 30, epsilon: 1e-9 }, row.channels);
 * const r = flat.update(row.values); // r.triggered, r.detail?.channel
 */
import { ConfigError, DiffwatchError } from '../../errors.ts';
import type { Judgement } from '../alertLifecycle.ts';

export const FLATLINE_KIND = 'flatline';

export interface FlatlineOptions {
  /** Consecutive points within epsilon that make a channel flat; > maxFillSteps. */
  minPoints: number;
  /** Largest |x − run start| (channel units) still counted as "did not change". */
  epsilon: number;
  /** The stream's forward-fill limit, checked against minPoints when given. */
  maxFillSteps?: number;
}

export interface FlatlineDetail {
  /** The longest-flat channel. */
  channel: string;
  /** The value it is stuck at (the run's first value). */
  value: number;
  /** Points in its run. */
  points: number;
}

export interface FlatlineResult extends Judgement {
  contributions: Float32Array;
  detail: FlatlineDetail | null;
}

export interface Flatline {
  /** Feeds one point (values of all C channels) and judges it. */
  update(values: ArrayLike<number>): FlatlineResult;
}

export function createFlatline(opts: FlatlineOptions, channels: readonly string[]): Flatline {
  validate(opts);
  const { minPoints, epsilon } = opts;
  const C = channels.length;
  const start = new Float64Array(C).fill(NaN); // first value of each channel's current run
  const run = new Float64Array(C); // points in the current run
  const varied = new Uint8Array(C); // 1 once a run of the channel has ended
  const result: FlatlineResult = { triggered: false, score: 0, threshold: minPoints, keepLevel: minPoints, contributions: new Float32Array(C), detail: null };

  return {
    update(values) {
      if (values.length !== C) throw new DiffwatchError('RULE_INPUT_INVALID', `flatline: expected ${C} values, got ${values.length}`, { coords: { field: 'values' } });
      let longest = 0;
      let worst = -1;
      let flatCount = 0;
      for (let c = 0; c < C; c++) {
        const v = values[c];
        // A missing point leaves the run as it was: the sensor is judged on its last run.
        if (!Number.isNaN(v)) {
          if (run[c] > 0 && Math.abs(v - start[c]) <= epsilon) {
            run[c]++;
          } else {
            if (run[c] > 0) varied[c] = 1;
            start[c] = v;
            run[c] = 1;
          }
        }
        if (varied[c] === 0) continue;
        if (run[c] >= minPoints) flatCount++;
        if (run[c] > longest) {
          longest = run[c];
          worst = c;
        }
      }
      result.score = longest;
      result.triggered = flatCount > 0;
      const share = flatCount > 0 ? 1 / flatCount : 0;
      for (let c = 0; c < C; c++) result.contributions[c] = varied[c] === 1 && run[c] >= minPoints ? share : 0;
      result.detail = result.triggered ? { channel: channels[worst], value: start[worst], points: longest } : null;
      return result;
    },
  };
}

function validate(o: FlatlineOptions): void {
  if (!Number.isSafeInteger(o.minPoints) || o.minPoints < 2) throw new ConfigError('detect.rules.flatline.minPoints', `must be an integer >= 2, got ${o.minPoints}`);
  if (!(Number.isFinite(o.epsilon) && o.epsilon >= 0)) throw new ConfigError('detect.rules.flatline.epsilon', `must be a finite number >= 0, got ${o.epsilon}`);
  if (o.maxFillSteps !== undefined && o.minPoints <= o.maxFillSteps) {
    throw new ConfigError('detect.rules.flatline.minPoints', `must exceed stream.maxFillSteps (${o.maxFillSteps}), or forward-filled holes look like a stuck sensor; got ${o.minPoints}`);
  }
}
