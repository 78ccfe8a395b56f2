/** Control detectors for the suite's tests: one that knows nothing and one that knows the labels. */
import type { NabDetector } from '../../../../src/eval/nab/harness/types.ts';
import { makeBaseSeries, makeCase, type Layout, type SyntheticKnobs } from '../../../../src/eval/synthetic/index.ts';
import { mulberry32 } from '../../../../src/random.ts';
import type { Window, WindowScore } from '../../../../src/types.ts';

const windowScore = (score: number, C: number): WindowScore => ({ pointScores: Float32Array.of(score), channelContributions: new Float32Array(C), score, warmup: false });

/** Uniform random evidence, seeded per file: any AUC it earns is chance. */
export function randomDetector(): NabDetector {
  return {
    name: 'random',
    summary: 'uniform random evidence',
    windowLength: 1,
    params: {},
    async open(ctx) {
      const rng = mulberry32(ctx.seed * 7919 + ctx.path.length);
      return {
        scorer: { name: 'random', version: 'random', score: async (ws: readonly Window[]) => ws.map((w) => windowScore(rng(), w.channels.length)) },
        judge: (_w, s) => ({ anomalyScore: s.score, alertOnset: false }),
        alertThreshold: Number.NaN,
        close: async () => {},
      };
    },
  };
}

/**
 * Evidence 1 on the labelled rows and 0 elsewhere, read from the case the window's entity id
 * names: a check of the plumbing (streaming, row alignment, labels, metrics), not a detector.
 */
export function oracleDetector(seed: number, knobs: SyntheticKnobs): NabDetector {
  const labels = new Map<string, { labels: Uint8Array; t0: number }>();
  const labelsOf = (id: string) => {
    let l = labels.get(id);
    if (!l) {
      const [layout, type, i] = id.split('/');
      const c = makeCase(makeBaseSeries(seed, layout as Layout, Number(i), knobs), type, seed, knobs);
      labels.set(id, (l = { labels: c.labels, t0: c.timestamps[0] }));
    }
    return l;
  };
  return {
    name: 'oracle',
    summary: 'the labels themselves',
    windowLength: 1,
    params: {},
    async open() {
      const score = (w: Window) => {
        const l = labelsOf(w.entityId);
        return windowScore(l.labels[(w.endTime - l.t0) / knobs.stepMs], w.channels.length);
      };
      return {
        scorer: { name: 'oracle', version: 'oracle', score: async (ws: readonly Window[]) => ws.map(score) },
        judge: (_w, s) => ({ anomalyScore: s.score, alertOnset: false }),
        alertThreshold: Number.NaN,
        close: async () => {},
      };
    },
  };
}
