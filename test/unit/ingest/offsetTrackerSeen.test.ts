/**
 * `OffsetTracker.seen`: after a rebalance kafkajs re-reads every partition a member keeps from
 * its committed offset; what was registered before must be recognised (and skipped), and a
 * dropped (revoked) partition starts over.
 */
import { describe, expect, it } from 'vitest';
import { OffsetTracker } from '../../../src/ingest/offsetTracker.ts';

const c = (offset: number, partition = 0) => ({ topic: 't', partition, offset: String(offset) });

describe('OffsetTracker.seen', () => {
  it('is true for every offset up to the newest registered, held or done, and false beyond', () => {
    const t = new OffsetTracker();
    for (let o = 10; o < 15; o++) t.hold(c(o));
    t.release(c(10));
    t.release(c(11));
    expect([9, 10, 12, 14].map((o) => t.seen(c(o)))).toEqual([true, true, true, true]);
    expect(t.seen(c(15))).toBe(false);
    // The commit is unchanged by a re-read: the re-delivered copies are never held again.
    expect(t.watermarks()[0].offset).toBe('12');
  });

  it('knows nothing of a partition never read, or dropped', () => {
    const t = new OffsetTracker();
    t.hold(c(3, 1));
    expect(t.seen(c(0, 0))).toBe(false);
    t.drop('t', 1);
    expect(t.seen(c(3, 1))).toBe(false);
  });
});
