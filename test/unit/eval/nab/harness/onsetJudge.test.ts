/**
 * The onset judge (the service's detector with `detect.judge: "onset"`, as the NAB harness runs
 * it) through the service's stream operators, with the baseline scorer standing in
 * for the diffusion model (the judge only reads point scores and values): it is causal, it
 * seeds the value range from the first window's older rows only, and it alerts once per anomaly.
 */
import { describe, expect, it } from 'vitest';
import { ONSET_SCORER_DEFAULTS } from '../../../../../src/detect/onsetScorer.ts';
import { detectorJudge, onsetDetectConfig } from '../../../../../src/eval/nab/harness/detectorJudge.ts';
import { scoreReplay, type FileDetector } from '../../../../../src/eval/nab/harness/index.ts';
import { createBaselineScorer } from '../../../../../src/model/baselineScorer.ts';
import type { Window, WindowScore } from '../../../../../src/types.ts';
import { series, wave } from './helpers.ts';

const L = 32;
/** Rows between injected spikes: more than the gate's hold (100 windows), so each spike is its own excursion. */
const GAP = 151;

function detector(onJudge?: (w: Window, s: WindowScore) => void): FileDetector {
  const judge = detectorJudge(onsetDetectConfig(ONSET_SCORER_DEFAULTS), 'test');
  return {
    scorer: createBaselineScorer({ historyLength: 256, minHistory: 16 }),
    judge: (w, s) => {
      onJudge?.(w, s);
      return judge(w, s);
    },
    alertThreshold: Number.NaN,
    close: async () => {},
  };
}

describe('the onset judge of the NAB harness', () => {
  const base = wave(2000, 4);
  const cut = 1200;
  // Spikes that grow, each beyond every value and error before it: a repeat of an equal spike is
  // no longer rare (see tailRank.test.ts), which is not what this file tests.
  const changed = base.map((v, i) => (i >= cut && i % GAP === 0 ? v + 40 * (1 + (i - cut) / GAP) : v));

  it('scores causally: rewriting rows from `cut` on leaves every earlier score and alert unchanged', async () => {
    const a = await scoreReplay(series(base), detector(), { entityId: 'e', windowLength: L });
    const b = await scoreReplay(series(changed), detector(), { entityId: 'e', windowLength: L, microBatchSize: 5 });
    expect(Array.from(b.scores.subarray(0, cut))).toEqual(Array.from(a.scores.subarray(0, cut)));
    expect(Array.from(b.alertOnsets.subarray(0, cut))).toEqual(Array.from(a.alertOnsets.subarray(0, cut)));
    // The rewrite is seen, so the equality above is not vacuous.
    const first = Math.ceil(cut / GAP) * GAP;
    expect(b.scores[first]).toBeGreaterThan(a.scores[first]);
    expect(b.alertOnsets[first]).toBe(1);
  });

  it('alerts once per growing spike: each is a new excursion, its neighbours are damped', async () => {
    const r = await scoreReplay(series(changed), detector(), { entityId: 'e', windowLength: L });
    const spikes = changed.flatMap((_, i) => (i >= cut && i % GAP === 0 ? [i] : []));
    const onsets = Array.from(r.alertOnsets).flatMap((x, i) => (x === 1 && i >= cut ? [i] : []));
    expect(onsets).toEqual(spikes);
    for (const s of spikes) expect(Array.from(r.scores.subarray(s + 1, s + 5))).toEqual([0, 0, 0, 0]);
  });

  it('reads the first window whole and every later window only at its newest row', async () => {
    const seen: number[][] = [];
    await scoreReplay(series(base.slice(0, 100)), detector((w) => seen.push(Array.from(w.values))), { entityId: 'e', windowLength: L });
    expect(seen).toHaveLength(100 - L + 1);
    // Each window is the L rows ending at its newest row: nothing later is in reach of the judge.
    seen.forEach((v, k) => expect(v).toEqual(Array.from(Float32Array.from(base.slice(k, k + L)))));
  });
});
