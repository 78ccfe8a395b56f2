import { describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/errors.ts';
import { centerWindows, gatherWindows, splitWindows, windowStarts } from '../../../src/model/windows.ts';

describe('windowStarts / gatherWindows', () => {
  it('lists every full window with the stride and copies [W, L, C] row-major', () => {
    expect(windowStarts(10, 4, 3)).toEqual([0, 3, 6]);
    expect(windowStarts(3, 4)).toEqual([]);
    // 5 rows × 2 channels: row r = [r, 10 + r]
    const values = Float64Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? i / 2 : 10 + (i - 1) / 2));
    const w = gatherWindows(values, 2, 3, [0, 2]);
    expect(Array.from(w)).toEqual([0, 10, 1, 11, 2, 12, 2, 12, 3, 13, 4, 14]);
  });

  it('refuses a window that runs past the series', () => {
    expect(() => gatherWindows(new Float64Array(10), 2, 3, [3])).toThrow(ModelError);
  });
});

describe('centerWindows', () => {
  it('removes each window and channel mean in place and returns the means [W, C]', () => {
    const w = Float32Array.from([1, 10, 3, 30, /* window 2 */ 5, 0, 5, 2]); // [2, 2, 2]
    const means = centerWindows(w, 2, 2);
    expect(Array.from(means)).toEqual([2, 20, 5, 1]);
    expect(Array.from(w)).toEqual([-1, -10, 1, 10, 0, -1, 0, 1]);
  });
});

describe('splitWindows', () => {
  it('validates on the last windows and leaves a gap of L between the two sets', () => {
    const s = splitWindows(100, 10, 1, 0.2); // 91 windows → 18 for validation
    expect(s.validation).toHaveLength(18);
    expect(s.validation[s.validation.length - 1]).toBe(90);
    const lastTrainEnd = s.train[s.train.length - 1] + 10;
    expect(s.validation[0] - lastTrainEnd).toBe(10);
    expect(s.trainRows).toBe(lastTrainEnd);
    expect(s.train[0]).toBe(0);
  });

  it('says how many rows are needed when the series is too short', () => {
    expect(() => splitWindows(25, 10, 1, 0.2)).toThrow(/too short.*need about 38 rows/);
  });
});
