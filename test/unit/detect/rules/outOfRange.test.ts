import { describe, expect, it } from 'vitest';
import { createOutOfRange } from '../../../../src/detect/rules/outOfRange.ts';
import { ConfigError } from '../../../../src/errors.ts';

const CHANNELS = ['rpm', 'temp', 'free'];
const LIMITS = { temp: { max: 90 }, rpm: { min: 0, max: 3000 }, unused: { min: 1 } };

function judge(values: number[]) {
  const j = createOutOfRange(LIMITS, CHANNELS).update(values);
  return { triggered: j.triggered, score: j.score, contributions: Array.from(j.contributions), detail: j.detail, threshold: j.threshold, keepLevel: j.keepLevel };
}

describe('outOfRange', () => {
  it('treats the limits as inclusive and ignores channels without limits', () => {
    expect(judge([0, 90, -1e9])).toEqual({ triggered: false, score: 0, contributions: [0, 0, 0], detail: null, threshold: 1, keepLevel: 1 });
    expect(judge([3000, -40, 1e9]).triggered).toBe(false);
  });

  it('reports the channel, the value and its limits, scaled by how far past the limit it is', () => {
    const j = judge([1200, 95, 0]);
    expect(j.triggered).toBe(true);
    expect(j.score).toBeCloseTo(1 + 5 / 90, 12); // one-sided limit: scale is |max|
    expect(j.contributions).toEqual([0, 1, 0]);
    expect(j.detail).toEqual({ channel: 'temp', value: 95, max: 90 });
    // Two-sided limit: scale is the width, so 1500 below 0 is half a range out.
    expect(judge([-1500, 20, 0])).toMatchObject({ score: 1.5, detail: { channel: 'rpm', value: -1500, min: 0, max: 3000 } });
  });

  it('splits the contributions when several channels are out and names the worst', () => {
    const j = judge([-1500, 180, 0]);
    expect(j.score).toBe(2);
    expect(j.contributions).toEqual([0.5, 0.5, 0]);
    expect(j.detail).toEqual({ channel: 'temp', value: 180, max: 90 });
  });

  it('skips NaN values and uses scale 1 for a limit of 0', () => {
    expect(judge([NaN, NaN, NaN]).triggered).toBe(false);
    const zero = createOutOfRange({ p: { min: 0 } }, ['p']).update([-0.5]);
    expect([zero.score, zero.detail]).toEqual([1.5, { channel: 'p', value: -0.5, min: 0 }]);
  });

  it('rejects limits that make no sense, naming the config key', () => {
    expect(() => createOutOfRange({ rpm: { min: 5, max: 1 } }, CHANNELS)).toThrow(expect.objectContaining({ coords: { key: 'detect.rules.outOfRange.limits.rpm' } }));
    expect(() => createOutOfRange({ rpm: {} }, CHANNELS)).toThrow(ConfigError);
    expect(() => createOutOfRange({ rpm: { max: Infinity } }, CHANNELS)).toThrow(expect.objectContaining({ coords: { key: 'detect.rules.outOfRange.limits.rpm.max' } }));
    expect(() => createOutOfRange(LIMITS, CHANNELS).update([1])).toThrow(expect.objectContaining({ code: 'RULE_INPUT_INVALID' }));
  });
});
