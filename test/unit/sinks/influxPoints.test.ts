import { describe, expect, it } from 'vitest';
import { alertPoint, scorePoint, scoreState } from '../../../src/sinks/influxPoints.ts';
import { toLineProtocol } from '../../../src/sinks/lineProtocol.ts';
import { anomalyEvent, scoredWindow } from './fixtures.ts';

describe('scorePoint', () => {
  it('has the scores shape, stamped with the window end', () => {
    expect(scorePoint(scoredWindow())).toEqual({
      measurement: 'scores',
      tags: { entity: 'pump-7', model_version: 'baseline@1', scorer: 'baseline' },
      fields: { score: 7.5, threshold: 6, anomaly: true, state: 'anomaly', contrib_temp: 0.75, contrib_rpm: 0.25 },
      timestamp: 1_700_000_003_000,
    });
  });

  it('serialises score and threshold as floats and anomaly as a bool', () => {
    expect(toLineProtocol(scorePoint(scoredWindow({ score: 7 })))).toBe(
      'scores,entity=pump-7,model_version=baseline@1,scorer=baseline anomaly=true,state="anomaly",score=7,threshold=6,contrib_temp=0.75,contrib_rpm=0.25 1700000003000',
    );
  });

  it('names the state: anomaly, then gap, then warm-up, else normal', () => {
    expect(scoreState(scoredWindow({ isAnomaly: true, hasGap: true }))).toBe('anomaly');
    expect(scoreState(scoredWindow({ isAnomaly: false, hasGap: true, warmup: true }))).toBe('gap');
    expect(scoreState(scoredWindow({ isAnomaly: false, warmup: true }))).toBe('warmup');
    expect(scoreState(scoredWindow({ isAnomaly: false }))).toBe('normal');
  });

  it('leaves out a non-finite score instead of failing the point', () => {
    const p = scorePoint(scoredWindow({ score: Number.NaN, isAnomaly: false, warmup: true }));
    expect(p.fields).not.toHaveProperty('score');
    expect(p.fields).toMatchObject({ state: 'warmup', anomaly: false, threshold: 6 });
    expect(() => toLineProtocol(p)).not.toThrow();
  });
});

describe('alertPoint', () => {
  it('has the alerts shape, stamped with the event end, start_time an integer', () => {
    const p = alertPoint(anomalyEvent());
    expect(p).toEqual({
      measurement: 'alerts',
      tags: { entity: 'pump-7', kind: 'score', state: 'open', severity: 'critical' },
      fields: {
        event_id: 'a687cb479c768c350bb4f8618d30f4f1', start_time: 1_700_000_000_000n, model_version: 'baseline@1',
        top_channel: 'rpm', score: 12.5, threshold: 6,
      },
      timestamp: 1_700_000_060_000,
    });
    expect(toLineProtocol(p)).toContain(' event_id="a687cb479c768c350bb4f8618d30f4f1",start_time=1700000000000i,');
  });

  it('omits top_channel when there are no contributions', () => {
    expect(alertPoint(anomalyEvent({ contributions: [] })).fields).not.toHaveProperty('top_channel');
  });
});
