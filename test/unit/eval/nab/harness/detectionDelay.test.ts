import { describe, expect, it } from 'vitest';
import { detectionDelay } from '../../../../../src/eval/nab/harness/index.ts';

const MIN = 60_000;

describe('detectionDelay', () => {
  it('measures the first scorable detection of each window from its left edge, in rows and ms', () => {
    const scores = new Float64Array(100);
    scores[25] = 0.9; // window 1: [20, 40], detected 5 rows in
    scores[30] = 0.95;
    scores[70] = 0.5; // window 2: [60, 80], below the threshold: missed
    scores[10] = 1; // outside every window: no delay
    const timestamps = Float64Array.from({ length: 100 }, (_, i) => i * 5 * MIN);
    const d = detectionDelay([{ timestamps, scores, windowRows: [{ left: 20, right: 40 }, { left: 60, right: 80 }], probationaryRows: 0 }], 0.9);
    expect(d).toEqual({ detectedWindows: 1, meanRows: 5, meanMs: 25 * MIN });
  });

  it('skips probationary rows and averages over files', () => {
    const a = new Float64Array(50);
    a[3] = 1; // inside the window but probationary
    a[12] = 1;
    const b = new Float64Array(50);
    b[40] = 1;
    const ts = Float64Array.from({ length: 50 }, (_, i) => i * MIN);
    const d = detectionDelay(
      [
        { timestamps: ts, scores: a, windowRows: [{ left: 0, right: 20 }], probationaryRows: 7 },
        { timestamps: ts, scores: b, windowRows: [{ left: 30, right: 45 }], probationaryRows: 7 },
      ],
      1,
    );
    expect(d).toEqual({ detectedWindows: 2, meanRows: (12 + 10) / 2, meanMs: ((12 + 10) / 2) * MIN });
  });

  it('reports null delays when nothing is detected', () => {
    const d = detectionDelay([{ timestamps: new Float64Array(5), scores: new Float64Array(5), windowRows: [{ left: 1, right: 3 }], probationaryRows: 0 }], 0.5);
    expect(d).toEqual({ detectedWindows: 0, meanRows: null, meanMs: null });
  });
});
