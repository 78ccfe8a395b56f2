import { describe, expect, it } from 'vitest';
import { PointInvalid, SinkError } from '../../../src/errors.ts';
import { rejectedWindowLetter, windowOfEvent, windowsOfRejectedPoints } from '../../../src/service/rejectedWindows.ts';
import type { AnomalyEvent, Window } from '../../../src/types.ts';

const win = (entityId: string, endTime: number, offset = String(endTime)): Window => ({
  entityId, channels: ['t'], length: 2, startTime: endTime - 1, endTime, timestamps: new Float64Array([endTime - 1, endTime]),
  values: new Float32Array(2), hasGap: false, sources: [{ topic: 'tel', partition: 0, offset }], releases: [],
});
const event = (entityId: string, endTime: number) => ({ entityId, endTime }) as AnomalyEvent;

describe('rejected windows', () => {
  const a1 = win('a', 1);
  const a2 = win('a', 2);
  const b2 = win('b', 2);

  it('maps rejected points back to the windows that own them, first error wins', () => {
    const conflict = new SinkError('SINK_REJECTED', 'partial write: field type conflict', { sink: 'influxdb', retriable: false });
    const invalid = new PointInvalid('bad', { part: 'tag value' });
    const failed = windowsOfRejectedPoints([a1, a2, b2, a2], [{ index: 1, error: conflict }, { index: 3, error: invalid }]);
    expect([...failed]).toEqual([[a2, conflict]]);
    expect(windowsOfRejectedPoints([a1, undefined], [{ index: 1, error: invalid }]).size).toBe(0);
  });

  it("finds an alert's window by entity and end time, else the entity's newest", () => {
    expect(windowOfEvent([a1, a2, b2], event('a', 1))).toBe(a1);
    expect(windowOfEvent([a1, a2, b2], event('a', 9))).toBe(a2);
    expect(windowOfEvent([a1, a2], event('c', 1))).toBeUndefined();
  });

  it('dead-letters a window to its newest message, keyed by entity, with the error', () => {
    const error = new SinkError('SINK_REJECTED', 'x', { sink: 'influxdb', retriable: false });
    const letter = rejectedWindowLetter(win('a\u00e9', 5, '77'), error);
    expect(letter).toMatchObject({ source: { topic: 'tel', offset: '77' }, key: 'a\u00e9', error });
    expect(JSON.parse(String(letter?.value))).toMatchObject({ entityId: 'a\u00e9', endTime: 5 });
  });
});
