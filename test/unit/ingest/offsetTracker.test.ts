import { describe, expect, it } from 'vitest';
import { OffsetTracker } from '../../../src/ingest/offsetTracker.ts';

const c = (offset: number, partition = 0, topic = 't') => ({ topic, partition, offset: String(offset) });

describe('OffsetTracker', () => {
  it('commits up to the oldest message still held', () => {
    const t = new OffsetTracker();
    for (let o = 0; o < 5; o++) t.hold(c(o));
    expect(t.watermarks()).toEqual([{ topic: 't', partition: 0, offset: '0', pending: 5 }]);
    t.release(c(1));
    t.release(c(2));
    // 0 is still held, so nothing may be committed past it.
    expect(t.watermarks()[0].offset).toBe('0');
    t.release(c(0));
    expect(t.watermarks()[0].offset).toBe('3');
    t.release(c(4));
    expect(t.watermarks()[0].offset).toBe('3');
    t.release(c(3));
    expect(t.watermarks()[0]).toEqual({ topic: 't', partition: 0, offset: '5', pending: 0 });
  });

  it('handles gaps in offsets (compaction, transaction markers)', () => {
    const t = new OffsetTracker();
    t.hold(c(10));
    t.hold(c(13));
    t.release(c(10));
    expect(t.watermarks()[0].offset).toBe('13');
    t.release(c(13));
    expect(t.watermarks()[0].offset).toBe('14');
  });

  it('keeps partitions and topics apart', () => {
    const t = new OffsetTracker();
    t.hold(c(0, 0));
    t.hold(c(0, 1));
    t.hold(c(0, 0, 'u'));
    t.release(c(0, 1));
    const wm = Object.fromEntries(t.watermarks().map((w) => [`${w.topic}/${w.partition}`, w.offset]));
    expect(wm).toEqual({ 't/0': '0', 't/1': '1', 'u/0': '0' });
    expect(t.pending('t', 0)).toBe(1);
    expect(t.pending('t', 1)).toBe(0);
  });

  it('ignores double releases and releases of unknown or dropped partitions', () => {
    const t = new OffsetTracker();
    t.hold(c(0));
    t.hold(c(1));
    expect(t.release(c(0))).toBe(true);
    expect(t.release(c(0))).toBe(false);
    expect(t.release(c(7, 3))).toBe(false);
    t.drop('t', 0);
    expect(t.release(c(1))).toBe(false);
    expect(t.watermarks()).toEqual([]);
  });

  it('stays correct across compaction of a long partition', () => {
    const t = new OffsetTracker();
    const n = 20_000;
    for (let o = 0; o < n; o++) t.hold(c(o));
    // Release everything but offset 15000, in a scrambled order.
    const order = Array.from({ length: n }, (_, i) => i).filter((i) => i !== 15_000);
    for (let i = order.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const o of order) t.release(c(o));
    expect(t.watermarks()[0]).toEqual({ topic: 't', partition: 0, offset: '15000', pending: 1 });
    t.hold(c(n));
    t.release(c(15_000));
    expect(t.watermarks()[0].offset).toBe(String(n));
    t.release(c(n));
    expect(t.watermarks()[0].offset).toBe(String(n + 1));
  });

  it('keeps its memory bounded on a long steady stream: what is held plus a small done prefix', () => {
    const t = new OffsetTracker();
    let most = 0;
    // 100,000 messages, each released 40 messages after it arrives (readings parked in windows).
    for (let o = 0; o < 100_000; o++) {
      t.hold(c(o));
      if (o >= 40) t.release(c(o - 40));
      most = Math.max(most, t.slots());
    }
    expect(t.watermarks()[0]).toEqual({ topic: 't', partition: 0, offset: String(100_000 - 40), pending: 40 });
    expect(most).toBeLessThanOrEqual(2 * (256 + 40));
  });
});
