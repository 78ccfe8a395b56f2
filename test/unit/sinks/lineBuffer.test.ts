import { describe, expect, it } from 'vitest';
import { createLineBuffer } from '../../../src/sinks/lineBuffer.ts';
import { manualTimers } from './helpers/manual.ts';

/** A deliver that holds each batch until the test releases it. */
function heldDeliver() {
  const batches: string[][] = [];
  const releases: (() => void)[] = [];
  let onBatch: (() => void) | null = null;
  return {
    batches,
    deliver(lines: string[]) {
      batches.push(lines);
      onBatch?.();
      return new Promise<{ rejected: boolean[] }>((resolve) => releases.push(() => resolve({ rejected: lines.map((l) => l.startsWith('bad')) })));
    },
    /** Resolves when `n` batches have been handed over. */
    batchCount(n: number) {
      if (batches.length >= n) return Promise.resolve();
      return new Promise<void>((resolve) => {
        onBatch = () => {
          if (batches.length >= n) {
            onBatch = null;
            resolve();
          }
        };
      });
    },
    releaseNext() {
      const r = releases.shift();
      if (!r) throw new Error('no batch in flight');
      r();
    },
  };
}

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('createLineBuffer', () => {
  it('admits waiting pushes in call order: a small later push does not overtake a large one', async () => {
    const d = heldDeliver();
    const buf = createLineBuffer({ batchSize: 2, maxBufferPoints: 3, flushIntervalMs: 50, timers: manualTimers(), deliver: d.deliver });
    const a = buf.push(names('a', 3));
    const b = buf.push(names('b', 4)); // no room: waits
    const c = buf.push(['c0']); // room for 1 would appear before b is done, but c must queue behind b
    await d.batchCount(1);
    expect(buf.size).toBe(3);
    for (let n = 2; n <= 5; n++) {
      d.releaseNext();
      await d.batchCount(n);
    }
    d.releaseNext();
    await Promise.all([a, b, c]);
    expect(d.batches.flat()).toEqual([...names('a', 3), ...names('b', 4), 'c0']);
  });

  it('flush() covers lines still waiting for room, and reports rejected lines per push', async () => {
    const d = heldDeliver();
    const timers = manualTimers();
    const buf = createLineBuffer({ batchSize: 2, maxBufferPoints: 2, flushIntervalMs: 50, timers, deliver: d.deliver });
    const a = buf.push(['a0', 'bad1']);
    const b = buf.push(['b0', 'b1', 'bad2']); // the odd last line only leaves on a flush or the timer
    const flushed = buf.flush();
    for (let n = 1; n <= 3; n++) {
      await d.batchCount(n);
      d.releaseNext();
    }
    await flushed;
    await expect(a).resolves.toMatchObject({ rejected: 1 });
    await expect(b).resolves.toMatchObject({ rejected: 1 });
    expect(d.batches).toEqual([['a0', 'bad1'], ['b0', 'b1'], ['bad2']]);
    expect(timers.pending()).toBe(0);
    expect(buf.size).toBe(0);
  });

  it('rejects the pushes of a batch whose delivery failed unexpectedly, and keeps going', async () => {
    let calls = 0;
    const buf = createLineBuffer({
      batchSize: 1, maxBufferPoints: 10, flushIntervalMs: 50, timers: manualTimers(),
      deliver: async (lines) => {
        if (calls++ === 0) throw new Error('defect');
        return { rejected: lines.map(() => false) };
      },
    });
    const a = buf.push(['a']);
    const b = buf.push(['b']);
    await expect(a).rejects.toThrow('defect');
    await expect(b).resolves.toMatchObject({ rejected: 0 });
  });
});
