import { Subject, from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchWhileBusy } from '../../../src/stream/batchWhileBusy.ts';
import { prng, testScheduler } from './helpers.ts';

/** A call whose every invocation is recorded and settled by the test. */
function controlledCall() {
  const calls: { batch: number[]; resolve: (r: string) => void; reject: (e: unknown) => void }[] = [];
  const call = (batch: number[]) => new Promise<string>((resolve, reject) => calls.push({ batch, resolve, reject }));
  return { calls, call };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

describe('batchWhileBusy', () => {
  it('calls at once with a full batch, and maxWaitMs after the first item with a partial one', () => {
    const scheduler = testScheduler();
    const { calls, call } = controlledCall();
    const items = new Subject<number>();
    items.pipe(batchWhileBusy({ maxSize: 3, maxWaitMs: 5, scheduler }, call)).subscribe();
    [1, 2, 3].forEach((i) => items.next(i));
    expect(calls.map((c) => c.batch)).toEqual([[1, 2, 3]]);
    calls[0].resolve('a');
    return settle().then(() => {
      items.next(4);
      scheduler.flush(); // the 5 ms wait passes in virtual time
      expect(calls.map((c) => c.batch)).toEqual([[1, 2, 3], [4]]);
    });
  });

  it('hands everything that arrived during a call to the next call the moment it returns, up to maxSize', async () => {
    const scheduler = testScheduler();
    const { calls, call } = controlledCall();
    const items = new Subject<number>();
    const results: string[] = [];
    items.pipe(batchWhileBusy({ maxSize: 4, maxWaitMs: 1_000, scheduler }, call)).subscribe((r) => results.push(r));
    [1, 2, 3, 4].forEach((i) => items.next(i));
    [5, 6, 7, 8, 9, 10].forEach((i) => items.next(i)); // arrive while the first call runs
    expect(calls).toHaveLength(1);
    calls[0].resolve('first');
    await settle();
    // No timer was needed: the next call started as the first returned, with a full batch.
    expect(calls.map((c) => c.batch)).toEqual([[1, 2, 3, 4], [5, 6, 7, 8]]);
    calls[1].resolve('second');
    await settle();
    expect(calls[2].batch).toEqual([9, 10]);
    calls[2].resolve('third');
    await settle();
    expect(results).toEqual(['first', 'second', 'third']);
  });

  it('calls with what is buffered when the source completes, and completes after the last result', async () => {
    const { calls, call } = controlledCall();
    const items = new Subject<number>();
    let completed = false;
    items.pipe(batchWhileBusy({ maxSize: 10, maxWaitMs: 60_000 }, call)).subscribe({ complete: () => (completed = true) });
    items.next(1);
    items.complete();
    expect(calls.map((c) => c.batch)).toEqual([[1]]);
    expect(completed).toBe(false);
    calls[0].resolve('x');
    await settle();
    expect(completed).toBe(true);
  });

  it('fails with the call\'s error', async () => {
    const { calls, call } = controlledCall();
    let error: unknown;
    from([1, 2]).pipe(batchWhileBusy({ maxSize: 2, maxWaitMs: 1 }, call)).subscribe({ error: (e) => (error = e) });
    calls[0].reject(new Error('model failed'));
    await settle();
    expect((error as Error).message).toBe('model failed');
  });

  it('keeps every item exactly once and in order, in batches of at most maxSize, whatever the call times', async () => {
    const rand = prng(7);
    const items = Array.from({ length: 2_000 }, (_, i) => i);
    const batches: number[][] = [];
    const call = (b: number[]) => new Promise<number[]>((r) => setTimeout(() => r(b), Math.floor(rand() * 3)));
    const source = new Subject<number>();
    const done = new Promise<void>((res) => source.pipe(batchWhileBusy({ maxSize: 16, maxWaitMs: 1 }, call)).subscribe({ next: (b) => batches.push(b), complete: res }));
    for (const i of items) {
      source.next(i);
      if (rand() < 0.05) await settle(); // let some calls return midway
    }
    source.complete();
    await done;
    expect(batches.flat()).toEqual(items);
    expect(batches.every((b) => b.length >= 1 && b.length <= 16)).toBe(true);
    expect(Math.max(...batches.map((b) => b.length))).toBe(16);
  });

  it('rejects a maxSize that is not a positive integer', () => {
    expect(() => batchWhileBusy({ maxSize: 0, maxWaitMs: 1 }, async () => 0)).toThrow(/maxSize/);
  });
});
