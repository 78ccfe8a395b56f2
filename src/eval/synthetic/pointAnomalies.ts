/**
 * Contextual point spikes: row t becomes exactly `clean(t) + k·σ`, where clean(t) is the value
 * the channel is expected to have at that phase (no noise) and σ the noise std. The rows are
 * chosen where the daily cycle is in its lower half and the spiked value stays inside the
 * training range of the channel, so no spike is an outlier of the series as a whole: only a
 * detector that knows what is normal at that phase can see it.
 */
import type { BaseSeries } from './baseSeries.ts';
import type { SyntheticKnobs } from './knobs.ts';
import { shuffleInPlace, type Rng } from './rngStreams.ts';
import type { Injection } from './segmentAnomalies.ts';
import { cleanValue, columnRange } from './wave.ts';

export function injectSpikes(base: BaseSeries, rng: Rng, k: Readonly<SyntheticKnobs>, sigmas: number): Injection {
  const { main } = base;
  const C = base.channels.length;
  const { train, total } = base.rows;
  const range = columnRange(base.values, C, main.channel, 0, train);
  const spike = (t: number) => cleanValue(main, t) + sigmas * main.unit;
  const candidates: number[] = [];
  for (let t = train + k.marginRows; t < total - k.marginRows; t++) {
    if (main.daily[t] < 0 && spike(t) >= range.min && spike(t) <= range.max) candidates.push(t);
  }
  const rows = spacedPick(shuffleInPlace(candidates, rng), k.spikeCount, k.minSpacing).sort((a, b) => a - b);
  const values = base.values.slice();
  for (const t of rows) values[t * C + main.channel] = spike(t); // [N, C]
  return { values, segments: rows.map((t) => ({ start: t, end: t })) };
}

/** The first `count` of `xs` (in their order) that keep `spacing` from every one taken before. */
export function spacedPick(xs: readonly number[], count: number, spacing: number): number[] {
  const out: number[] = [];
  for (const x of xs) {
    if (out.length === count) break;
    if (out.every((y) => Math.abs(x - y) >= spacing)) out.push(x);
  }
  return out;
}
