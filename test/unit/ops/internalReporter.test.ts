import { describe, expect, it } from 'vitest';
import { METRICS, Metrics } from '../../../src/metrics.ts';
import { INTERNAL_FIELDS, INTERNAL_MEASUREMENT } from '../../../src/ops/internalMeasurement.ts';
import { internalPoint, intervalStart } from '../../../src/ops/internalReporter.ts';

describe('internalPoint', () => {
  it('turns the metrics of an interval into the diffwatch_internal fields', () => {
    const m = new Metrics();
    m.inc(METRICS.readingsDecoded, 100, { topic: 't' });
    const start = intervalStart(m, 0);
    m.inc(METRICS.readingsDecoded, 50, { topic: 't' });
    m.inc(METRICS.windowsScored, 20);
    m.inc(METRICS.deadLettered, 2, { code: 'DECODE_FAILED' });
    m.set(METRICS.consumerLag, 3, { topic: 't', partition: '0' });
    m.set(METRICS.consumerLag, 4, { topic: 't', partition: '1' });
    m.sample(METRICS.influxBufferFill, () => 0.25);
    m.sample(METRICS.influxRetries, () => 1);
    m.sample(METRICS.entities, () => [
      { labels: { state: 'cold_start' }, value: 1 },
      { labels: { state: 'scoring' }, value: 5 },
    ]);
    for (const s of [0.01, 0.02, 0.03]) m.observe(METRICS.endToEndLatency, s);
    m.observe(METRICS.modelCallDuration, 0.004, { scorer: 'baseline' });
    m.observe(METRICS.modelBatchSize, 8, { scorer: 'baseline' });
    m.observe(METRICS.modelBatchSize, 4, { scorer: 'baseline' });

    const p = internalPoint(m, start, 10_000, 'host:1');
    const F = INTERNAL_FIELDS;
    expect(p.measurement).toBe(INTERNAL_MEASUREMENT);
    expect(p.tags).toEqual({ instance: 'host:1' });
    expect(p.timestamp).toEqual(new Date(10_000));
    expect(p.fields).toEqual({
      [F.readingsPerSecond]: 5,
      [F.windowsPerSecond]: 2,
      [F.lagMessages]: 7,
      [F.latencyP50Ms]: 20,
      [F.latencyP99Ms]: 30,
      [F.latencyMaxMs]: 30,
      [F.deadLettered]: 2,
      [F.bufferFill]: 0.25,
      [F.influxRetries]: 1,
      [F.modelCallP50Ms]: 4,
      [F.modelCallP99Ms]: 4,
      [F.modelBatchSize]: 6,
      [F.workerQueueDepth]: 0,
      [F.entitiesWarmup]: 0,
      [F.entitiesColdStart]: 1,
      [F.entitiesScoring]: 5,
    });
  });

  it('leaves out a figure the interval has no observation for', () => {
    const m = new Metrics();
    const p = internalPoint(m, intervalStart(m, 0), 1_000, 'h:1');
    expect(Object.keys(p.fields!)).not.toContain(INTERNAL_FIELDS.latencyP50Ms);
    expect(Object.keys(p.fields!)).not.toContain(INTERNAL_FIELDS.modelBatchSize);
    expect(p.fields![INTERNAL_FIELDS.windowsPerSecond]).toBe(0);
  });
});
