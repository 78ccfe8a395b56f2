import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { microBatch } from '../../../src/stream/microBatch.ts';
import { testScheduler } from './helpers.ts';

describe('microBatch', () => {
  it('emits when maxSize is reached, at once', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-abcdef-|');
      expectObservable(source.pipe(microBatch({ maxSize: 3, maxWaitMs: 100 }))).toBe('---x--y-|', { x: ['a', 'b', 'c'], y: ['d', 'e', 'f'] });
    });
  });

  it('emits maxWaitMs after the first item of a batch, and the clock restarts with the next item', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      // a at 1 → batch due at 6; c at 9 → due at 14.
      const source = hot('-a-b-----c------|');
      expectObservable(source.pipe(microBatch({ maxSize: 10, maxWaitMs: 5 }))).toBe('------x-------y-|', { x: ['a', 'b'], y: ['c'] });
    });
  });

  it('never emits an empty batch, and flushes the open batch on completion', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      expectObservable(hot('------------|').pipe(microBatch({ maxSize: 2, maxWaitMs: 3 }))).toBe('------------|');
      expectObservable(hot('-abc|').pipe(microBatch({ maxSize: 2, maxWaitMs: 50 }))).toBe('--x-(y|)', { x: ['a', 'b'], y: ['c'] });
    });
  });

  it('a full batch cancels its timer, so the next batch gets its own full wait', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      // a, b at 1-2 fill the batch; c at 4 opens a new one due at 4 + 5 = 9, not at 1 + 5 = 6.
      const source = hot('-ab-c-------|');
      expectObservable(source.pipe(microBatch({ maxSize: 2, maxWaitMs: 5 }))).toBe('--x------y--|', { x: ['a', 'b'], y: ['c'] });
    });
  });

  it('keeps every item exactly once, in order', () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const batches: number[][] = [];
    from(items).pipe(microBatch({ maxSize: 7, maxWaitMs: 1 })).subscribe((b) => batches.push(b));
    expect(batches.flat()).toEqual(items);
    expect(batches.every((b) => b.length >= 1 && b.length <= 7)).toBe(true);
  });
});
