/** Records for sink tests: a scored window and an alert event with known values. */
import type { AnomalyEvent, ScoredWindow } from '../../../src/types.ts';

export function scoredWindow(over: { entityId?: string; endTime?: number; score?: number; isAnomaly?: boolean; warmup?: boolean; hasGap?: boolean } = {}): ScoredWindow {
  const channels = ['temp', 'rpm'];
  const L = 4;
  const endTime = over.endTime ?? 1_700_000_003_000;
  return {
    window: {
      entityId: over.entityId ?? 'pump-7',
      channels,
      length: L,
      startTime: endTime - 3_000,
      endTime,
      timestamps: Float64Array.from({ length: L }, (_, i) => endTime - (L - 1 - i) * 1_000),
      values: new Float32Array(L * channels.length), // [L, C]
      hasGap: over.hasGap ?? false,
      sources: [],
      releases: [],
    },
    score: {
      pointScores: new Float32Array(L),
      channelContributions: Float32Array.from([0.75, 0.25]),
      score: over.score ?? 7.5,
      warmup: over.warmup ?? false,
    },
    threshold: 6,
    isAnomaly: over.isAnomaly ?? true,
    scorer: 'baseline',
    modelVersion: 'baseline@1',
  };
}

export function anomalyEvent(over: Partial<AnomalyEvent> = {}): AnomalyEvent {
  return {
    eventId: 'a687cb479c768c350bb4f8618d30f4f1',
    entityId: 'pump-7',
    kind: 'score',
    state: 'open',
    severity: 'critical',
    startTime: 1_700_000_000_000,
    endTime: 1_700_000_060_000,
    detectedAt: 1_700_000_060_500,
    score: 12.5,
    threshold: 6,
    modelVersion: 'baseline@1',
    contributions: [{ channel: 'temp', share: 0.2 }, { channel: 'rpm', share: 0.8 }],
    ...over,
  };
}
