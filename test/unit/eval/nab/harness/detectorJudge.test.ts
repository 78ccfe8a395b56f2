/**
 * The service's detector as a NAB judge decides exactly as the onset scorer composed by hand with
 * the alert lifecycle (the judge the onset settings were tuned with): so the NAB figures are
 * those of `diffwatch run` with `detect.judge: "onset"`.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../../../src/config/schema.ts';
import { mulberry32 } from '../../../../../src/random.ts';
import type { Window, WindowScore } from '../../../../../src/types.ts';
import { lifecycleAlertRule } from '../../../../../src/eval/nab/harness/alertRule.ts';
import { detectorJudge, onsetDetectConfig } from '../../../../../src/eval/nab/harness/detectorJudge.ts';
import { OnsetScorer, type OnsetScorerConfig } from '../../../../../src/detect/onsetScorer.ts';
import type { AlertRule } from '../../../../../src/eval/nab/harness/alertRule.ts';
import type { Judge } from '../../../../../src/eval/nab/harness/types.ts';

const L = 8;
const STEP = 300_000;

function stream(n: number, seed: number): { w: Window; s: WindowScore }[] {
  const rng = mulberry32(seed);
  const values = Array.from({ length: n + L }, (_, i) => 20 + 3 * Math.sin(i / 30) + rng() + (i > 900 && i < 910 ? 15 : 0));
  return Array.from({ length: n }, (_, k) => {
    const burst = (k > 500 && k < 520) || (k > 1400 && k < 1405) ? 30 * rng() : 0;
    const pointScores = Float32Array.from({ length: L }, () => rng() * rng() + burst);
    return {
      w: { entityId: 'f', channels: ['value'], length: L, startTime: k * STEP, endTime: (k + L - 1) * STEP, timestamps: Float64Array.from({ length: L }, (_, i) => (k + i) * STEP), values: Float32Array.from(values.slice(k, k + L)), hasGap: false, sources: [], releases: [] },
      s: { pointScores, channelContributions: new Float32Array([1]), score: pointScores[L - 1], warmup: false },
    };
  });
}

/** The reference: the onset scorer and the lifecycle, wired by hand. */
function handJudge(config: OnsetScorerConfig, alert: AlertRule): Judge {
  const scorer = new OnsetScorer(config);
  const level = config.gate.level;
  let started = false;
  return (w, s) => {
    const C = w.channels.length;
    if (!started) {
      for (let i = 0; i < w.length - 1; i++) scorer.observe(w.values.subarray(i * C, (i + 1) * C));
      started = true;
    }
    const d = scorer.update(s.pointScores, w.values.subarray((w.length - 1) * C, w.length * C));
    return { anomalyScore: d.score, alertOnset: alert(w, { ...s, score: d.gated }, { threshold: level, keepLevel: level, triggered: d.onset }) };
  };
}

describe('detectorJudge', () => {
  it('gives the onset judge’s anomaly scores and alert onsets, window for window', () => {
    const detect = onsetDetectConfig(DEFAULTS.detect.onsetScorer);
    const viaDetector = detectorJudge(detect, 'v1');
    const viaHarness = handJudge(detect.onsetScorer, lifecycleAlertRule({ threshold: Infinity, keepLevel: Infinity, kind: 'diffusion', modelVersion: 'v1' }));
    const a = stream(2_000, 4).map(({ w, s }) => viaDetector(w, s));
    const b = stream(2_000, 4).map(({ w, s }) => viaHarness(w, s));
    expect(a).toEqual(b);
    // Not vacuous: there are onsets, and graded scores.
    expect(a.filter((j) => j.alertOnset).length).toBeGreaterThanOrEqual(2);
    expect(new Set(a.map((j) => j.anomalyScore)).size).toBeGreaterThan(10);
  });
});
