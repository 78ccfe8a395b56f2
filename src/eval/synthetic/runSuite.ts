/**
 * Runs detectors over the synthetic suite. Per layout and case index, each detector is opened
 * once on the fit part of the shared normal series (`FileContext.training`), then every anomaly
 * type of that case is streamed through its scorer under its own entity id. The service's
 * `Scorer` is multi-entity by contract, so one trained model scoring several entities is what the
 * service itself does; the baseline keeps a separate history per entity, so every type starts
 * from the same state.
 */
import type { FileContext, NabDetector } from '../nab/harness/types.ts';
import { makeBaseSeries, type BaseSeries, type Layout } from './baseSeries.ts';
import { makeCase, typesOf, type SyntheticCase } from './cases.ts';
import { SYNTHETIC_DEFAULTS, type SyntheticKnobs } from './knobs.ts';
import { caseMetrics, summariseType, type CaseMetrics, type TypeSummary } from './metrics.ts';
import { replayEvidence } from './replayEvidence.ts';

export interface SuiteOptions {
  seed: number;
  detectors: readonly NabDetector[];
  layouts: readonly Layout[];
  /** Types to run; each layout runs those it has. Default every type. */
  types?: readonly string[];
  casesPerType: number;
  knobs?: Partial<SyntheticKnobs>;
  /** Called after each case and detector, e.g. to print a progress line. */
  onCase?: (r: CaseResult, done: number, total: number) => void;
}

export interface CaseResult {
  id: string;
  layout: Layout;
  type: string;
  caseIndex: number;
  detector: string;
  segments: { start: number; end: number }[];
  metrics: CaseMetrics;
  /** Scoring time of this case, ms (training is counted in `trainMs` of the suite). */
  wallMs: number;
}

export interface SuiteResult {
  seed: number;
  knobs: SyntheticKnobs;
  layouts: Layout[];
  casesPerType: number;
  detectors: { name: string; summary: string; windowLength: number; params: Readonly<Record<string, number | string | boolean>>; trainMs: number; scoreMs: number }[];
  cases: CaseResult[];
  /** layout → type → detector → summary. */
  summary: Record<string, Record<string, Record<string, TypeSummary>>>;
  wallMs: number;
}

export async function runSuite(opts: SuiteOptions): Promise<SuiteResult> {
  const started = performance.now();
  const knobs: SyntheticKnobs = { ...SYNTHETIC_DEFAULTS, ...opts.knobs };
  const detectors = opts.detectors.map((d) => ({ name: d.name, summary: d.summary, windowLength: d.windowLength, params: d.params, trainMs: 0, scoreMs: 0 }));
  const plan = opts.layouts.map((layout) => ({ layout, types: typesOf(layout).filter((t) => !opts.types || opts.types.includes(t)) }));
  const total = plan.reduce((n, p) => n + p.types.length, 0) * opts.casesPerType * detectors.length;
  const cases: CaseResult[] = [];
  for (const { layout, types } of plan) {
    if (types.length === 0) continue;
    for (let i = 0; i < opts.casesPerType; i++) {
      const base = makeBaseSeries(opts.seed, layout, i, knobs);
      const injected = types.map((type) => makeCase(base, type, opts.seed, knobs));
      for (const [d, detector] of opts.detectors.entries()) {
        for (const r of await runDetector(detector, base, injected, opts.seed, knobs, detectors[d])) {
          cases.push(r);
          opts.onCase?.(r, cases.length, total);
        }
      }
    }
  }
  return { seed: opts.seed, knobs, layouts: [...opts.layouts], casesPerType: opts.casesPerType, detectors, cases, summary: summarise(cases), wallMs: performance.now() - started };
}

async function runDetector(detector: NabDetector, base: BaseSeries, injected: SyntheticCase[], seed: number, knobs: SyntheticKnobs, timing: { trainMs: number; scoreMs: number }): Promise<CaseResult[]> {
  const { fit, train } = base.rows;
  const C = base.channels.length;
  const ctx: FileContext = {
    path: `synthetic/${base.layout}/${base.caseIndex}`,
    rows: base.rows.total,
    probationaryRows: fit,
    // The fit rows only: the held-out tail (the threshold) and the test part stay unseen.
    training: { channels: base.channels, timestamps: base.timestamps.slice(0, fit), values: base.values.slice(0, fit * C) },
    seed,
  };
  const t0 = performance.now();
  const fd = await detector.open(ctx);
  timing.trainMs += performance.now() - t0;
  const out: CaseResult[] = [];
  try {
    for (const c of injected) {
      const t1 = performance.now();
      const scores = await replayEvidence(c, fd, detector.windowLength);
      const wallMs = performance.now() - t1;
      timing.scoreMs += wallMs;
      out.push({ id: c.id, layout: c.layout, type: c.type, caseIndex: c.caseIndex, detector: detector.name, segments: c.segments, metrics: caseMetrics(c, scores, { fit, train }, knobs.marginRows), wallMs });
    }
  } finally {
    await fd.close();
  }
  return out;
}

function summarise(cases: readonly CaseResult[]): SuiteResult['summary'] {
  const groups = new Map<string, CaseResult[]>();
  for (const c of cases) {
    const key = JSON.stringify([c.layout, c.type, c.detector]);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const out: SuiteResult['summary'] = {};
  for (const [key, cs] of groups) {
    const [layout, type, detector] = JSON.parse(key) as string[];
    ((out[layout] ??= {})[type] ??= {})[detector] = summariseType(cs.map((c) => c.metrics));
  }
  return out;
}
