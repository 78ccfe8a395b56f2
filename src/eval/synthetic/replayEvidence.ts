/**
 * Streams one case through the service's stream operators with the NAB harness's `scoreReplay`,
 * keeping each window's raw score (`WindowScore.score`, the detector's evidence) instead of the
 * detector's NAB judgement: the suite compares evidence, and a judge's calibration and onset
 * gating would measure something else. Row t gets the score of the window whose newest row is t
 * (causal); rows with no window of their own (the first L−1) get 0.
 */
import { scoreReplay } from '../nab/harness/scoreReplay.ts';
import type { FileDetector } from '../nab/harness/types.ts';
import type { SyntheticCase } from './cases.ts';

export async function replayEvidence(c: SyntheticCase, fd: FileDetector, windowLength: number): Promise<Float64Array> {
  const evidence: FileDetector = { ...fd, judge: (_w, s) => ({ anomalyScore: s.score, alertOnset: false }) };
  const series = { channels: c.channels, timestamps: c.timestamps, values: c.values, rawTimestamps: [] };
  const r = await scoreReplay(series, evidence, { entityId: c.id, windowLength });
  return r.scores;
}
