import { describe, expect, it } from 'vitest';
import { createFlatline } from '../../../../src/detect/rules/flatline.ts';
import { ConfigError, DiffwatchError } from '../../../../src/errors.ts';

/** Feeds rows and keeps a copy of each judgement (the rule reuses its result object). */
function run(rule: ReturnType<typeof createFlatline>, rows: number[][]) {
  return rows.map((r) => {
    const j = rule.update(r);
    return { triggered: j.triggered, score: j.score, contributions: Array.from(j.contributions), detail: j.detail };
  });
}

describe('flatline', () => {
  it('fires once a channel that varied before stays within epsilon for minPoints points', () => {
    const rule = createFlatline({ minPoints: 3, epsilon: 0.01 }, ['a', 'b']);
    const out = run(rule, [
      [1, 5],
      [2, 6],
      [3, 7],
      [3.005, 8],
      [3, 9],
      [3, 10],
    ]);
    expect(out.map((o) => o.triggered)).toEqual([false, false, false, false, true, true]);
    expect(out.map((o) => o.score)).toEqual([0, 1, 1, 2, 3, 4]);
    expect(out[4].contributions).toEqual([1, 0]);
    expect(out[4].detail).toEqual({ channel: 'a', value: 3, points: 3 });
    expect(out[5].detail).toEqual({ channel: 'a', value: 3, points: 4 });
    expect([rule.update([3, 11]).threshold, rule.update([3, 12]).keepLevel]).toEqual([3, 3]);
  });

  it('never fires on a channel that has been constant since its first point', () => {
    const rule = createFlatline({ minPoints: 3, epsilon: 0 }, ['setpoint']);
    const out = run(rule, Array.from({ length: 50 }, () => [7]));
    expect(out.every((o) => !o.triggered && o.score === 0)).toBe(true);
  });

  it('measures against the start of the run, so a slow drift in small steps is not flat', () => {
    const rule = createFlatline({ minPoints: 4, epsilon: 0.01 }, ['a']);
    const rows = [[0], ...Array.from({ length: 20 }, (_, k) => [1 + 0.004 * k])];
    const out = run(rule, rows);
    expect(out.some((o) => o.triggered)).toBe(false);
    expect(Math.max(...out.map((o) => o.score))).toBe(3);
  });

  it('splits the contributions between flat channels and names the longest run', () => {
    const rule = createFlatline({ minPoints: 2, epsilon: 0 }, ['a', 'b', 'c']);
    const out = run(rule, [
      [0, 0, 0],
      [1, 1, 1],
      [1, 2, 2],
      [1, 2, 3],
    ]);
    expect(out[3]).toEqual({ triggered: true, score: 3, contributions: [0.5, 0.5, 0], detail: { channel: 'a', value: 1, points: 3 } });
  });

  it('skips NaN points and clears once the value moves', () => {
    const rule = createFlatline({ minPoints: 3, epsilon: 0 }, ['a']);
    const out = run(rule, [[0], [1], [NaN], [1], [NaN], [1], [2]]);
    expect(out.map((o) => [o.triggered, o.score])).toEqual([
      [false, 0],
      [false, 1],
      [false, 1],
      [false, 2],
      [false, 2],
      [true, 3],
      [false, 1],
    ]);
    expect(out[6].detail).toBeNull();
  });

  it('reuses one result object and rejects bad options and inputs', () => {
    const rule = createFlatline({ minPoints: 3, epsilon: 0 }, ['a']);
    expect(rule.update([1])).toBe(rule.update([2]));
    expect(() => rule.update([1, 2])).toThrow(expect.objectContaining({ code: 'RULE_INPUT_INVALID' }));
    expect(() => rule.update([1, 2])).toThrow(DiffwatchError);
    expect(() => createFlatline({ minPoints: 3, epsilon: 0, maxFillSteps: 3 }, ['a'])).toThrow(ConfigError);
    expect(() => createFlatline({ minPoints: 3, epsilon: -1 }, ['a'])).toThrow(expect.objectContaining({ coords: { key: 'detect.rules.flatline.epsilon' } }));
  });
});
