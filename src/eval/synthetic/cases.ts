/**
 * The suite's cases: for each layout and case index one normal series (`baseSeries.ts`), and for
 * each anomaly type a copy of it with that type injected into the test part. All the types of one
 * layout and case index share their training part, so a detector is trained once per
 * (layout, case index) and scores every type of it.
 *
 * @example
 *   const base = makeBaseSeries(0, 'univariate', 0, SYNTHETIC_DEFAULTS);
 *   const c = makeCase(base, 'spike5', 0, SYNTHETIC_DEFAULTS);   // c.labels[t] = 1 at the spikes
 */
import { ConfigError } from '../../errors.ts';
import type { BaseSeries, Layout } from './baseSeries.ts';
import type { SyntheticKnobs } from './knobs.ts';
import { injectSpikes } from './pointAnomalies.ts';
import { injectCommandWithoutResponse, injectCorrelationBreak, injectResponseWithoutCommand } from './relationAnomalies.ts';
import { streamRng, type Rng } from './rngStreams.ts';
import { SEGMENT_INJECTORS, type Injection, type Segment } from './segmentAnomalies.ts';

type Injector = (base: BaseSeries, rng: Rng, k: Readonly<SyntheticKnobs>) => Injection;

/** Anomalies of one analogue channel: every layout (the main channel, `value` or `a1`). */
const CHANNEL_INJECTORS: Readonly<Record<string, Injector>> = {
  spike3: (b, r, k) => injectSpikes(b, r, k, 3),
  spike4: (b, r, k) => injectSpikes(b, r, k, 4),
  spike5: (b, r, k) => injectSpikes(b, r, k, 5),
  ...SEGMENT_INJECTORS,
};

/** Anomalies of a relation between channels: multivariate only. */
const RELATION_INJECTORS: Readonly<Record<string, Injector>> = {
  correlationBreak: injectCorrelationBreak,
  commandWithoutResponse: injectCommandWithoutResponse,
  responseWithoutCommand: injectResponseWithoutCommand,
};

export const CHANNEL_TYPES = Object.keys(CHANNEL_INJECTORS);
export const RELATION_TYPES = Object.keys(RELATION_INJECTORS);
export const ALL_TYPES = [...CHANNEL_TYPES, ...RELATION_TYPES];

/** The types a layout has, in table order. */
export const typesOf = (layout: Layout): string[] => (layout === 'multivariate' ? ALL_TYPES : CHANNEL_TYPES);

export interface SyntheticCase {
  /** `layout/type/caseIndex`: the entity id the case is streamed under. */
  id: string;
  layout: Layout;
  type: string;
  caseIndex: number;
  channels: string[];
  timestamps: Float64Array;
  /** Row-major `[N, C]`, the anomaly injected. */
  values: Float64Array;
  segments: Segment[];
  /** Per row of the whole series: 1 inside a segment. Only test rows carry a 1. */
  labels: Uint8Array;
  /** Per row: 1 for the `marginRows` after each segment, which count as neither class. */
  excluded: Uint8Array;
}

export function makeCase(base: BaseSeries, type: string, seed: number, k: Readonly<SyntheticKnobs>): SyntheticCase {
  const inject = CHANNEL_INJECTORS[type] ?? (base.layout === 'multivariate' ? RELATION_INJECTORS[type] : undefined);
  if (!inject) throw new ConfigError('--types', `"${type}" is not a ${base.layout} type; known: ${typesOf(base.layout).join(', ')}`);
  const { values, segments } = inject(base, streamRng(seed, base.layout, base.caseIndex, type), k);
  const N = base.timestamps.length;
  const labels = new Uint8Array(N);
  const excluded = new Uint8Array(N);
  for (const { start, end } of segments) {
    labels.fill(1, start, end + 1);
    excluded.fill(1, end + 1, Math.min(N, end + 1 + k.marginRows));
  }
  // A row inside one segment and in another's margin is a positive.
  for (let t = 0; t < N; t++) if (labels[t] === 1) excluded[t] = 0;
  return { id: `${base.layout}/${type}/${base.caseIndex}`, layout: base.layout, type, caseIndex: base.caseIndex, channels: base.channels, timestamps: base.timestamps, values, segments, labels, excluded };
}
