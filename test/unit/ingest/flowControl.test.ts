import { describe, expect, it } from 'vitest';
import { FlowControl, type PartitionRef } from '../../../src/ingest/flowControl.ts';

function harness(high: number, low: number) {
  const events: string[] = [];
  const fc = new FlowControl({
    highWaterMark: high,
    lowWaterMark: low,
    pause: (p: PartitionRef) => events.push(`pause ${p.topic}/${p.partition}`),
    resume: (p: PartitionRef) => events.push(`resume ${p.topic}/${p.partition}`),
  });
  return { fc, events };
}

const p0 = { topic: 't', partition: 0 };
const p1 = { topic: 't', partition: 1 };

describe('FlowControl', () => {
  it('pauses above the high-water mark and resumes below the low one, once each', () => {
    const { fc, events } = harness(4, 2);
    for (let i = 0; i < 4; i++) fc.begin(p0);
    expect(events).toEqual([]);
    fc.begin(p0);
    fc.begin(p0);
    expect(events).toEqual(['pause t/0']);
    expect(fc.isPaused(p0)).toBe(true);
    expect(fc.anyPaused()).toBe(true);
    fc.end(p0, 3); // 3 left: between the marks, still paused
    expect(events).toEqual(['pause t/0']);
    fc.end(p0, 2); // 1 left
    expect(events).toEqual(['pause t/0', 'resume t/0']);
    expect(fc.isPaused(p0)).toBe(false);
    expect(fc.anyPaused()).toBe(false);
    expect(fc.inFlight(p0)).toBe(1);
  });

  it('counts partitions separately', () => {
    const { fc, events } = harness(2, 1);
    fc.begin(p0, 3);
    fc.begin(p1, 1);
    expect(events).toEqual(['pause t/0']);
    expect(fc.inFlight()).toBe(4);
    fc.end(p1);
    expect(events).toEqual(['pause t/0']);
  });

  it('ignores acks for dropped partitions and never goes negative', () => {
    const { fc, events } = harness(2, 1);
    fc.begin(p0, 3);
    fc.drop(p0);
    fc.end(p0, 3);
    expect(fc.inFlight()).toBe(0);
    fc.begin(p1);
    fc.end(p1, 5);
    expect(fc.inFlight(p1)).toBe(0);
    expect(events).toEqual(['pause t/0']);
  });
});
