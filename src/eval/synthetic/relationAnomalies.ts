/**
 * Anomalies of a relation between channels, multivariate layout only. Every channel stays within
 * what it does normally on its own; only the relation is wrong.
 *
 * - correlationBreak: for one day a2 follows a1's cycle in anti-phase (half a day off), clipped to
 *   a2's training range, so a2 alone looks like an ordinary day and a1 is untouched.
 * - commandWithoutResponse: cmd00 pulses as usual, resp does not follow. Labelled from the command
 *   edge to the end of the response that was due (pulse end + lag + settling).
 * - responseWithoutCommand: resp rises as if commanded, cmd00 stays 0. Labelled, like the other,
 *   from the missing edge to the end of the response: the changed rows. The first `responseLag`
 *   of them look normal (no command, no response yet), so every detector's delay includes the lag.
 */
import { renderCoupled, renderResponse, type BaseSeries, type CommandResponse } from './baseSeries.ts';
import type { SyntheticKnobs } from './knobs.ts';
import { spacedPick } from './pointAnomalies.ts';
import { intIn, shuffleInPlace, type Rng } from './rngStreams.ts';
import type { Injection } from './segmentAnomalies.ts';
import { columnRange, dailyShape, phaseAt } from './wave.ts';

/** Rows for a first-order response to settle within 5 % of its step: ⌈ln 0.05 / ln(1 − α)⌉. */
export const settleRows = (alpha: number): number => Math.ceil(Math.log(0.05) / Math.log(1 - alpha));

function needs<T>(x: T | undefined, what: string): T {
  if (x === undefined) throw new Error(`synthetic: ${what} exists in the multivariate layout only`);
  return x;
}

export function injectCorrelationBreak(base: BaseSeries, rng: Rng, k: Readonly<SyntheticKnobs>): Injection {
  const coupled = needs(base.coupled, 'a correlation break');
  const { train, total } = base.rows;
  const C = base.channels.length;
  const c = coupled.wave.channel;
  const s = intIn(rng, train + k.marginRows, total - k.segmentRows - k.marginRows);
  const e = s + k.segmentRows;
  const daily = base.main.daily.slice();
  for (let t = s; t < e; t++) daily[t] = base.main.amplitude * dailyShape(phaseAt(base.main, t, k.pointsPerDay) + Math.PI);
  const values = base.values.slice();
  renderCoupled(coupled, { daily, weekly: base.main.weekly }, values, C, s, e);
  const { min, max } = columnRange(base.values, C, c, 0, train);
  for (let t = s; t < e; t++) values[t * C + c] = Math.min(max, Math.max(min, values[t * C + c])); // [N, C]
  return { values, segments: [{ start: s, end: e - 1 }] };
}

/** Pulses of cmd00 inside the test part whose whole response fits before the end, far apart. */
function anomalousPulses(base: BaseSeries, cr: CommandResponse, rng: Rng, k: Readonly<SyntheticKnobs>): [number, number][] {
  const tail = k.responseLag + settleRows(k.responseAlpha) + k.marginRows;
  const eligible = cr.pulses.filter(([a, b]) => a >= base.rows.train + k.marginRows && b + tail < base.rows.total);
  const starts = spacedPick(shuffleInPlace(eligible.map(([a]) => a), rng), k.pulseAnomalies, k.minSpacing);
  return eligible.filter(([a]) => starts.includes(a));
}

export function injectCommandWithoutResponse(base: BaseSeries, rng: Rng, k: Readonly<SyntheticKnobs>): Injection {
  const cr = needs(base.command, 'a command channel');
  const chosen = anomalousPulses(base, cr, rng, k);
  const C = base.channels.length;
  const unheard = base.values.slice();
  renderResponse(cr, unheard, C, k, cr.pulses.filter((p) => !chosen.includes(p)));
  const end = k.responseLag + settleRows(k.responseAlpha);
  const segments = chosen.map(([a, b]) => ({ start: a, end: b + end }));
  // Only the labelled rows take the unheard response: past them the missing response has settled
  // within 5 %, and its exponential tail (under 0.3 σ) would otherwise reach every later row.
  const values = base.values.slice();
  for (const { start, end: e } of segments) for (let t = start; t <= e; t++) values[t * C + cr.response] = unheard[t * C + cr.response]; // [N, C]
  return { values, segments };
}

export function injectResponseWithoutCommand(base: BaseSeries, rng: Rng, k: Readonly<SyntheticKnobs>): Injection {
  const cr = needs(base.command, 'a command channel');
  const chosen = anomalousPulses(base, cr, rng, k);
  const C = base.channels.length;
  const values = base.values.slice();
  for (const [a, b] of chosen) for (let t = a; t <= b; t++) values[t * C + cr.command] = 0; // [N, C]
  const end = k.responseLag + settleRows(k.responseAlpha);
  return { values, segments: chosen.map(([a, b]) => ({ start: a, end: b + end })) };
}
