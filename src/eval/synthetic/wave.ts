/**
 * One analogue telemetry channel, kept as its parts so that an anomaly can rewrite one part
 * (the daily cycle, the noise) and the clean value of every row stays known:
 *
 *   value[t] = offset + unit · (daily[t] + weekly[t] + noise[t])      clean = the same without noise
 *
 * In σ units the noise is N(0, 1); `offset` and `unit` give each case its own level and scale.
 * The daily shape has two harmonics, so the cycle is not a plain sine (a busy afternoon, a quiet
 * night) and its phase is drawn per case.
 */
import type { SyntheticKnobs } from './knobs.ts';
import { gaussians, uniform, type Rng } from './rngStreams.ts';

export interface Wave {
  /** Column of the channel in the case. */
  channel: number;
  offset: number;
  /** Raw units per σ. */
  unit: number;
  /** Daily amplitude, σ. */
  amplitude: number;
  /** Phase of the daily cycle at row 0, radians. */
  phase: number;
  /** σ units, length N. */
  daily: Float64Array;
  weekly: Float64Array;
  noise: Float64Array;
}

/** The daily profile at phase θ, in [-1.05, 1.05]: a main hump and a second harmonic. */
export const dailyShape = (theta: number): number => 0.8 * Math.sin(theta) + 0.25 * Math.sin(2 * theta + 1);

/** The daily phase of row t at `cyclesPerDay` (1 normally). */
export const phaseAt = (w: Pick<Wave, 'phase'>, t: number, pointsPerDay: number, cyclesPerDay = 1): number =>
  w.phase + (2 * Math.PI * cyclesPerDay * t) / pointsPerDay;

export function makeWave(rng: Rng, channel: number, rows: number, k: Readonly<SyntheticKnobs>): Wave {
  const amplitude = uniform(rng, k.dailyAmplitude[0], k.dailyAmplitude[1]);
  const phase = uniform(rng, 0, 2 * Math.PI);
  const weekPhase = uniform(rng, 0, 2 * Math.PI);
  const offset = uniform(rng, 20, 80);
  const unit = uniform(rng, 0.5, 2);
  const week = 7 * k.pointsPerDay;
  const w: Wave = { channel, offset, unit, amplitude, phase, daily: new Float64Array(rows), weekly: new Float64Array(rows), noise: gaussians(rng, rows) };
  for (let t = 0; t < rows; t++) {
    w.daily[t] = amplitude * dailyShape(phaseAt(w, t, k.pointsPerDay));
    w.weekly[t] = k.weeklyAmplitude * Math.sin(weekPhase + (2 * Math.PI * t) / week);
  }
  return w;
}

/** The noise-free value of row t, in raw units: what the row is expected to be at its phase. */
export const cleanValue = (w: Wave, t: number): number => w.offset + w.unit * (w.daily[t] + w.weekly[t]);

/** Writes the wave into column `w.channel` of row-major `[N, C]` values. */
export function renderWave(w: Wave, values: Float64Array, C: number): void {
  for (let t = 0; t < w.daily.length; t++) values[t * C + w.channel] = cleanValue(w, t) + w.unit * w.noise[t];
}

/** Smallest and largest value of column c over rows [from, to). */
export function columnRange(values: Float64Array, C: number, c: number, from: number, to: number): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let t = from; t < to; t++) {
    const v = values[t * C + c]; // [N, C]
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}
