import { describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/errors.ts';
import { channelKinds, channelsOfKind } from '../../../src/model/channelKinds.ts';

/** Row-major [N, C] from columns. */
const rows = (...cols: number[][]) => Float64Array.from({ length: cols[0].length * cols.length }, (_, k) => cols[k % cols.length][Math.floor(k / cols.length)]);

describe('channelKinds', () => {
  it('tells constant, binary and analogue channels apart, column by column', () => {
    const v = rows([230, 230, 230, 230], [0, 1, 1, 0], [1.5, 2.5, 2.5, 3.5], [7, 7, 7, 7]);
    expect(channelKinds(v, 4)).toEqual(['constant', 'binary', 'analogue', 'constant']);
  });

  it('calls any two distinct values binary, whatever their codes', () => {
    expect(channelKinds(rows([-1, 5, 5, -1, 5]), 1)).toEqual(['binary']);
  });

  it('ignores NaN gaps, and calls a channel with no value at all constant', () => {
    expect(channelKinds(rows([NaN, 1, NaN, 1]), 1)).toEqual(['constant']);
    expect(channelKinds(rows([0, NaN, 1, 0]), 1)).toEqual(['binary']);
    expect(channelKinds(rows([NaN, NaN]), 1)).toEqual(['constant']);
  });

  it('treats -0 and 0 as one value (SameValueZero), so a signed zero does not make a flag', () => {
    expect(channelKinds(rows([0, -0, 0]), 1)).toEqual(['constant']);
  });

  it('rejects a channel count that does not divide the values', () => {
    expect(() => channelKinds(new Float64Array(5), 2)).toThrow(ModelError);
    expect(() => channelKinds(new Float64Array(4), 0)).toThrow(ModelError);
  });

  it('lists the channels of one kind', () => {
    expect(channelsOfKind(['analogue', 'binary', 'analogue', 'constant'], 'analogue')).toEqual([0, 2]);
    expect(channelsOfKind(['binary'], 'analogue')).toEqual([]);
  });
});
