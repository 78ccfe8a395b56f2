/** The live-heap gauge takes the heap after a major collection only, and reads NaN before the first. */
import { constants, type PerformanceEntry } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { METRICS, Metrics } from '../../../src/metrics.ts';
import { hasMajor, watchLiveHeap } from '../../../src/ops/liveHeap.ts';

/** A full (major) collection, as `--expose-gc` would give. */
const fullGc = (): void => {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
};
const delivered = () => new Promise((res) => setTimeout(res, 50));
const gcEntry = (kind: number) => ({ entryType: 'gc', detail: { kind } }) as unknown as PerformanceEntry;

describe('watchLiveHeap', () => {
  it('counts a batch with a major collection, not one of scavenges and incremental marking', () => {
    expect(hasMajor([gcEntry(constants.NODE_PERFORMANCE_GC_MINOR), gcEntry(constants.NODE_PERFORMANCE_GC_INCREMENTAL)])).toBe(false);
    expect(hasMajor([gcEntry(constants.NODE_PERFORMANCE_GC_MINOR), gcEntry(constants.NODE_PERFORMANCE_GC_MAJOR)])).toBe(true);
    expect(hasMajor([])).toBe(false);
  });

  it('is NaN until it has seen a major collection, then the heap read after the latest one', async () => {
    let reads = 0;
    const metrics = new Metrics();
    const stop = watchLiveHeap(metrics, () => 1_000 + reads++);
    expect(Number.isNaN(metrics.get(METRICS.heapLive))).toBe(true);
    fullGc();
    await delivered();
    const first = metrics.get(METRICS.heapLive);
    expect(first).toBe(1_000 + reads - 1);
    fullGc();
    await delivered();
    expect(metrics.get(METRICS.heapLive)).toBeGreaterThan(first);
    stop();
    fullGc();
    await delivered();
    expect(metrics.get(METRICS.heapLive), 'stopped: no more reads').toBe(1_000 + reads - 1);
    expect(await metrics.text()).toMatch(/^diffwatch_heap_live_bytes \d+$/m);
  });

  it('reads the real heap by default', async () => {
    const metrics = new Metrics();
    const stop = watchLiveHeap(metrics);
    fullGc();
    await delivered();
    stop();
    expect(metrics.get(METRICS.heapLive)).toBeGreaterThan(1_000_000);
  });
});
