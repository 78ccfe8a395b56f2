/**
 * Detector state that survives restarts and rebalances, kept in the compacted state topic.
 *
 * The state stored for an entity must never be ahead of what the sinks hold: a restarted
 * service skips windows that end at or before the stored `lastWindowEnd` (they were written
 * and their alerts were sent). So each scored batch's snapshots wait until that batch and
 * every batch before it are durable; only then do they go to the store, which is flushed just
 * before offsets are committed. Batches may become durable out of order; snapshots are applied
 * in batch order.
 */
import type { EntityDetectorSnapshot } from '../detect/detector.ts';
import type { Logger } from '../log.ts';
import type { EntityState } from '../sinks/stateCodec.ts';
import type { StateStore } from '../sinks/stateStore.ts';

export interface DurableDetectorState {
  readonly store: StateStore;
  /** The saved state of an entity this instance has not seen yet. */
  lookup(entityId: string): EntityDetectorSnapshot | undefined;
  /** Reload the saved states (after a partition assignment). Batches wait for `ready`. */
  reload(): Promise<void>;
  /** Resolves once the last reload is done. */
  ready(): Promise<void>;
  /** Register a scored batch's snapshots; returns its sequence number. */
  scored(snapshots: EntityDetectorSnapshot[]): number;
  /** The batch `seq` is durable in every sink. */
  durable(seq: number): void;
  /** Write the applied snapshots (call before committing offsets). */
  flush(): Promise<void>;
  /**
   * The entities' partitions were revoked: their snapshots not yet applied are dropped (their new
   * owner writes its own), and so are their saved states (reloaded if they come back).
   */
  forget(entityIds: Iterable<string>): void;
}

export function createDurableDetectorState(store: StateStore, log: Logger): DurableDetectorState {
  let known = new Map<string, EntityDetectorSnapshot>();
  let loading: Promise<void> = Promise.resolve();
  let nextSeq = 0;
  let nextToApply = 0;
  const waiting = new Map<number, EntityDetectorSnapshot[]>();
  const done = new Set<number>();

  async function load(): Promise<void> {
    const started = Date.now();
    const records = await store.load();
    known = new Map([...records].map(([id, r]) => [id, r.state as unknown as EntityDetectorSnapshot]));
    log.info('detector state loaded', { entities: known.size, ms: Date.now() - started });
  }

  return {
    store,
    lookup: (id) => known.get(id),
    reload() {
      loading = loading.then(load, load);
      return loading;
    },
    ready: () => loading,
    scored(snapshots) {
      const seq = nextSeq++;
      waiting.set(seq, snapshots);
      return seq;
    },
    durable(seq) {
      if (!waiting.has(seq)) return;
      done.add(seq);
      // Apply the durable prefix, in batch order.
      while (done.has(nextToApply)) {
        for (const s of waiting.get(nextToApply) ?? []) {
          store.put(s.entityId, s as unknown as EntityState);
          known.set(s.entityId, s);
        }
        waiting.delete(nextToApply);
        done.delete(nextToApply);
        nextToApply++;
      }
    },
    flush: () => store.flush(),
    forget(entityIds) {
      const gone = new Set(entityIds);
      if (gone.size === 0) return;
      for (const id of gone) known.delete(id);
      for (const [seq, snapshots] of waiting) waiting.set(seq, snapshots.filter((s) => !gone.has(s.entityId)));
    },
  };
}
