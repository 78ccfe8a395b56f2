/**
 * The `diffwatch_heap_live_bytes` gauge: the main thread's V8 heap in use right after its latest
 * major (mark-compact) garbage collection. The used heap sampled at any other moment is a
 * sawtooth (the young generation fills and empties every few seconds, the old one between major
 * collections), so its slope over half an hour depends on where the last samples fall; what is
 * left after a full collection is the live data, and a leak is that rising.
 *
 * The value is read when the GC's performance entry is delivered (within the same turn of the
 * event loop or the next), not inside the collection: a few kB of new allocations may be in it.
 * NaN until the first major collection.
 *
 * @example
 * const stop = watchLiveHeap(metrics); // ...; stop();
 */
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { METRICS, type Metrics } from '../metrics.ts';

export function watchLiveHeap(metrics: Metrics, readUsed: () => number = () => getHeapStatistics().used_heap_size): () => void {
  let live = Number.NaN;
  const observer = new PerformanceObserver((list) => {
    if (hasMajor(list.getEntries())) live = readUsed();
  });
  observer.observe({ entryTypes: ['gc'] });
  metrics.sample(METRICS.heapLive, () => live);
  return () => observer.disconnect();
}

/** Whether a batch of GC entries has a major (mark-compact) collection; scavenges and incremental steps do not count. */
export const hasMajor = (entries: readonly PerformanceEntry[]): boolean =>
  entries.some((e) => (e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
