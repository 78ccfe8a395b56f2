import { describe, expect, it } from 'vitest';
import { createThresholdAlerter } from '../../../src/detect/thresholdAlerts.ts';
import type { Window, WindowScore } from '../../../src/types.ts';

function win(entityId: string, endTime: number, hasGap = false): Window {
  return {
    entityId,
    channels: ['a', 'b'],
    length: 2,
    startTime: endTime - 1,
    endTime,
    timestamps: new Float64Array([endTime - 1, endTime]),
    values: new Float32Array(4),
    hasGap,
    sources: [],
    releases: [],
  };
}

function sc(score: number, warmup = false, contrib = [0.25, 0.75]): WindowScore {
  return { score, warmup, pointScores: new Float32Array([0, score]), channelContributions: new Float32Array(contrib) };
}

const meta = { scorer: 'baseline', modelVersion: 'v1' };

describe('thresholdAlerter', () => {
  it('opens on the first window above the threshold and resolves on the first below', () => {
    const a = createThresholdAlerter({ threshold: 5, now: () => 0 });
    const ws = [1, 2, 3, 4, 5].map((t) => win('e', t));
    const { scored, events } = a.update(ws, [sc(1), sc(6), sc(12), sc(7), sc(2)], meta);
    expect(scored.map((s) => s.isAnomaly)).toEqual([false, true, true, true, false]);
    expect(events.map((e) => [e.state, e.startTime, e.endTime])).toEqual([
      ['open', 2, 2],
      ['resolved', 2, 5],
    ]);
    // The resolved event carries the incident's peak severity and names the top channel first.
    expect(events[1].severity).toBe('critical');
    expect(events[0].contributions[0]).toEqual({ channel: 'b', share: 0.75 });
    expect(events[0].eventId).not.toBe(events[1].eventId);
  });

  it('never alerts during warm-up or on a window with a gap', () => {
    const a = createThresholdAlerter({ threshold: 5 });
    const { scored, events } = a.update([win('e', 1), win('e', 2, true)], [sc(50, true), sc(50)], meta);
    expect(scored.map((s) => s.isAnomaly)).toEqual([false, false]);
    expect(events).toEqual([]);
  });

  it('keeps entities apart and produces the same ids on a replay', () => {
    const run = () => {
      const a = createThresholdAlerter({ threshold: 5, now: () => 0 });
      return a.update([win('x', 1), win('y', 1), win('x', 2)], [sc(9), sc(1), sc(9)], meta).events;
    };
    const first = run();
    expect(first.map((e) => [e.entityId, e.state])).toEqual([['x', 'open']]);
    expect(run().map((e) => e.eventId)).toEqual(first.map((e) => e.eventId));
  });
});
