/**
 * A deterministic stream for detector-state tests: a noisy level with a daily-like cycle, model
 * errors with bursts, and from window `stepAt` on a step of the level. The saved-state fixture
 * (`fixtures/onsetState.v1.*`) was made from this stream by the detector that wrote the raw-values
 * format (the detector of commit f208ecc, with `fixtureConfig()`: the record after `FIXTURE.before`
 * windows, then the decisions on the next `FIXTURE.next`), so the stream must not change.
 */
import { DEFAULTS, type DetectConfig } from '../../../src/config/schema.ts';
import { mulberry32 } from '../../../src/random.ts';
import type { Window, WindowScore } from '../../../src/types.ts';

export const STEP_MS = 300_000;

/** Windows `from .. from + count` of one entity with `C` channels and `L` points. */
export function stateStream(o: { entityId?: string; C: number; L: number; from: number; count: number; seed: number; bursts?: number[]; stepAt?: number }): { windows: Window[]; scores: WindowScore[] } {
  const rng = mulberry32(o.seed);
  const { C, L } = o;
  const value = (i: number, ch: number) => 50 + Math.sin((2 * Math.PI * i) / 288 + ch) + 2 * rng() + (o.stepAt !== undefined && i >= o.stepAt ? 6 : 0);
  const windows: Window[] = [];
  const scores: WindowScore[] = [];
  for (let k = o.from; k < o.from + o.count; k++) {
    const values = new Float32Array(L * C);
    for (let i = 0; i < L; i++) for (let ch = 0; ch < C; ch++) values[i * C + ch] = value(k + i, ch);
    windows.push({ entityId: o.entityId ?? 'e', channels: Array.from({ length: C }, (_, ch) => `c${ch}`), length: L, startTime: k * STEP_MS, endTime: (k + L - 1) * STEP_MS, timestamps: Float64Array.from({ length: L }, (_, i) => (k + i) * STEP_MS), values, hasGap: false, sources: [], releases: [] });
    const burst = o.bursts?.some((b) => k >= b && k < b + 5) ? 20 : 0;
    const pointScores = Float32Array.from({ length: L }, () => -Math.log(1 - rng()) * 0.1 + burst);
    scores.push({ pointScores, channelContributions: new Float32Array(C).fill(1 / C), score: pointScores[L - 1], warmup: false });
  }
  return { windows, scores };
}

/** The detect config of the saved-state fixture: the onset judge with short histories, so that the fixture stays small. */
export function fixtureConfig(): DetectConfig {
  const d = structuredClone(DEFAULTS.detect) as DetectConfig;
  d.judge = 'onset';
  d.threshold.warmupWindows = 100;
  d.onsetScorer.tailRank.capacity = 600;
  d.onsetScorer.levelShift.window = 800;
  return d;
}

/** How the fixture was made: 2,000 windows, the state saved, then these next windows. */
export const FIXTURE = { C: 1, L: 16, before: 2_000, next: 600, seed: 5, bursts: [700, 2_150], stepAt: 2_350 };
