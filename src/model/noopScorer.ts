/**
 * A scorer that does no work: every point scores 0. It exists to measure what the pipeline
 * itself costs (consume, decode, window, judge, write), with the model taken out; `bench/e2e.ts`
 * compares its throughput with the raw consume rate of the same topic. It never alerts, because
 * a constant score never exceeds a threshold calibrated on it.
 */
import type { Scorer, Window, WindowScore } from '../types.ts';

const zeros = (w: Window): WindowScore => ({
  pointScores: new Float32Array(w.length),
  channelContributions: new Float32Array(w.channels.length),
  score: 0,
  warmup: false,
});

export function createNoopScorer(): Scorer {
  return { name: 'noop', version: 'noop-v1', score: async (windows) => windows.map(zeros) };
}
