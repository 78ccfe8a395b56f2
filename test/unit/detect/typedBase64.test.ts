import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../../src/detect/typedBase64.ts';

describe('typedBase64', () => {
  it('round-trips float64 and uint16 values exactly', () => {
    const xs = new Float64Array([0, -1.5, Math.PI, 1e-300, Number.MAX_VALUE]);
    expect(fromBase64(toBase64(xs), Float64Array)).toEqual(xs);
    const codes = new Uint16Array([0, 1, 65_535, 4_096]);
    expect(fromBase64(toBase64(codes), Uint16Array)).toEqual(codes);
  });

  it('encodes only the bytes of a view, not the whole buffer behind it', () => {
    const whole = new Float64Array([1, 2, 3, 4]);
    const view = whole.subarray(1, 3);
    expect(Array.from(fromBase64(toBase64(view), Float64Array))).toEqual([2, 3]);
  });
});
