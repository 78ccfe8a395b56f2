import { describe, expect, it } from 'vitest';
import { createSilence, type Silence } from '../../../../src/detect/rules/silence.ts';
import { ConfigError } from '../../../../src/errors.ts';

const V = [1, 2];
const GAP = [NaN, NaN];

/** Feeds readings at the given times; returns a copy of each judgement. */
function feed(s: Silence, times: number[], values = V) {
  return times.map((t) => {
    const j = s.update(t, values);
    return { triggered: j.triggered, score: j.score, detail: j.detail };
  });
}

const every = (from: number, n: number, stepMs: number) => Array.from({ length: n }, (_, k) => from + k * stepMs);

describe('silence', () => {
  it('learns the step and reports a reading that arrives minSteps or more steps late', () => {
    const s = createSilence({ minSteps: 5 }, 2);
    feed(s, every(0, 8, 1000)); // 7 intervals: one short of minIntervals
    expect(s.typicalStepMs()).toBeNaN();
    feed(s, [8000]);
    expect(s.typicalStepMs()).toBe(1000);
    const [onTime, late, after] = feed(s, [9000, 14_000, 15_000]);
    expect(onTime).toEqual({ triggered: false, score: 1, detail: null });
    expect(late).toEqual({ triggered: true, score: 5, detail: { reason: 'late_reading', lastDataTime: 9000, silentMs: 5000, typicalStepMs: 1000 } });
    expect(after.triggered).toBe(false);
  });

  it('does not judge arrivals before the step is known', () => {
    const s = createSilence({ minSteps: 5, minIntervals: 4 }, 2);
    expect(feed(s, [0, 1000, 60_000]).some((j) => j.triggered)).toBe(false);
    expect(s.checkSilence(1e9).triggered).toBe(false);
  });

  it('uses the median interval, so one earlier outlier does not hide a silence', () => {
    const s = createSilence({ minSteps: 5 }, 2);
    feed(s, [0, 1000, 2000, 2900, 4000, 34_000, 35_000, 36_000, 37_000]);
    expect(s.typicalStepMs()).toBe(1000);
    expect(feed(s, [42_000])[0]).toMatchObject({ triggered: true, score: 5 });
  });

  it('reports an unended silence through checkSilence without changing state', () => {
    const s = createSilence({ minSteps: 5, stepMs: 1000 }, 2);
    expect(s.checkSilence(10_000).triggered).toBe(false); // no data yet: nothing to miss
    feed(s, [0, 1000]);
    expect(s.checkSilence(5999)).toMatchObject({ triggered: false, score: 4.999 });
    const j = s.checkSilence(6000);
    expect([j.triggered, j.score, j.detail]).toEqual([true, 5, { reason: 'no_data', lastDataTime: 1000, silentMs: 5000, typicalStepMs: 1000 }]);
    expect(Array.from(j.contributions)).toEqual([0, 0]);
    expect(feed(s, [2000])[0].triggered).toBe(false);
  });

  it('triggers on a gap row and measures the silence when data returns', () => {
    const s = createSilence({ minSteps: 5, stepMs: 1000 }, 2);
    feed(s, [0, 1000]);
    expect(feed(s, [2000], [NaN, 3])[0].triggered).toBe(false); // one channel missing is not silence
    const [gap] = feed(s, [3000], GAP);
    expect(gap).toEqual({ triggered: true, score: 5, detail: { reason: 'gap_marker', lastDataTime: 2000, silentMs: 1000, typicalStepMs: 1000 } });
    expect(feed(s, [12_000])[0]).toMatchObject({ triggered: true, score: 10, detail: { reason: 'late_reading', lastDataTime: 2000 } });
  });

  it('re-learns a source that really slowed down within half its history', () => {
    const s = createSilence({ minSteps: 5, historySize: 8, minIntervals: 4 }, 2);
    feed(s, every(0, 9, 1000));
    const slow = feed(s, every(18_000, 6, 10_000));
    expect(slow.map((j) => j.triggered)).toEqual([true, true, true, true, false, false]);
  });

  it('rejects bad options, naming the key', () => {
    expect(() => createSilence({ minSteps: 1 }, 2)).toThrow(ConfigError);
    expect(() => createSilence({ minSteps: 5, historySize: 4, minIntervals: 8 }, 2)).toThrow(expect.objectContaining({ coords: { key: 'detect.rules.silence.minIntervals' } }));
    expect(() => createSilence({ minSteps: 5 }, 2).update(0, [1])).toThrow(expect.objectContaining({ code: 'RULE_INPUT_INVALID' }));
  });
});
