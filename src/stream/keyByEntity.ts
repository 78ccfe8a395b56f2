import { EMPTY, asyncScheduler, defer, filter, finalize, groupBy, interval, merge, switchMap, take, type GroupedObservable, type Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';

export interface KeyByEntityOptions<T = unknown> {
  /** ms without a record for an entity after which its group completes (its state is dropped). */
  idleMs: number;
  /** Clock for the idle timers; tests pass a TestScheduler. */
  scheduler?: SchedulerLike;
  /**
   * Asked when an entity has been silent for `idleMs`, with its last record: true means its
   * silence says nothing (its input was paused), so the idle clock starts over instead.
   */
  holdIdle?: (last: T) => boolean;
  /**
   * Evictions: each predicate emitted completes at once every group whose last record matches
   * it (the service evicts the entities of partitions revoked in a rebalance, whose new owner
   * rebuilds them from the committed offsets).
   */
  evict?: Observable<(last: T) => boolean>;
  /** Most groups open at once (default: no limit). A record of a new entity beyond it goes to `onRefused`, not into a group. */
  maxEntities?: number;
  /** A record refused because `maxEntities` groups are open; the caller dead-letters and acknowledges it. */
  onRefused?: (record: T) => void;
  /** The number of open groups, each time it changes. */
  onLiveCount?: (live: number) => void;
  /** An entity's group has completed (idle, evicted, or the source ended) and its slot is free. */
  onEnd?: (entityId: string) => void;
}

/**
 * Splits a stream into one group per `entityId`, like `groupBy`, but completes a group
 * after `idleMs` without a record for it, so that memory stays bounded however many
 * entity ids pass through. A later record of that entity creates a fresh group.
 * With `maxEntities`, at most that many groups are open: a record of a new entity beyond the cap
 * goes to `onRefused`; an entity whose group completed (idle or evicted) frees its slot.
 *
 * @example
 * readings$.pipe(keyByEntity({ idleMs: 600_000 }), mergeMap((g) => g.pipe(...)))
 */
export function keyByEntity<T extends { entityId: string }>(
  opts: KeyByEntityOptions<T>,
): OperatorFunction<T, GroupedObservable<string, T>> {
  const { idleMs, scheduler = asyncScheduler, holdIdle = () => false, evict = EMPTY, maxEntities = Infinity, onRefused = () => undefined, onLiveCount = () => undefined, onEnd = () => undefined } = opts;
  return (source) =>
    defer(() => {
      // The entities with an open group, per subscription: the one place a slot is taken and freed.
      const live = new Set<string>();
      const admit = (record: T) => {
        if (live.has(record.entityId)) return true;
        if (live.size >= maxEntities) {
          onRefused(record);
          return false;
        }
        live.add(record.entityId);
        onLiveCount(live.size);
        return true;
      };
      return source.pipe(
        filter(admit),
        groupBy((record: T) => record.entityId, {
          // groupBy subscribes the duration before it pushes the group's first record,
          // so the debounce also sees that record and the idle clock starts with it.
          // Like debounceTime(idleMs), but a held entity is checked again every idleMs.
          // The duration ends exactly when its group does (idle, evicted, or the source ended).
          duration: (group: GroupedObservable<string, T>) =>
            group.pipe(
              switchMap((last) =>
                merge(interval(idleMs, scheduler).pipe(filter(() => !holdIdle(last))), evict.pipe(filter((matches) => matches(last)))).pipe(take(1)),
              ),
              finalize(() => {
                live.delete(group.key);
                onLiveCount(live.size);
                onEnd(group.key);
              }),
            ),
        }),
      );
    });
}
