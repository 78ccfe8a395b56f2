import { describe, expect, it } from 'vitest';
import { MAX_TP, scaledSigmoid } from '../../../../src/eval/nab/index.ts';

describe('scaledSigmoid', () => {
  it('has the values NAB documents at the window edges', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.98661, 5);
    expect(MAX_TP).toBe(scaledSigmoid(-1));
  });

  it('is -1 strictly beyond y = 3 and still the sigmoid at 3', () => {
    expect(scaledSigmoid(3.0001)).toBe(-1);
    expect(scaledSigmoid(100)).toBe(-1);
    expect(scaledSigmoid(3)).toBeCloseTo(-Math.tanh(7.5), 15);
    expect(scaledSigmoid(3)).toBeGreaterThan(-1);
  });

  it('falls monotonically: an earlier detection is worth more', () => {
    let prev = Infinity;
    for (let y = -3; y <= 3; y += 0.25) {
      const v = scaledSigmoid(y);
      expect(v).toBeLessThan(prev);
      expect(v).toBeCloseTo(-Math.tanh(2.5 * y), 14);
      prev = v;
    }
  });
});
