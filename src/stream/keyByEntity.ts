import { EMPTY, asyncScheduler, filter, groupBy, interval, merge, switchMap, take, type GroupedObservable, type Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';

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
}

/**
 * Splits a stream into one group per `entityId`, like `groupBy`, but completes a group
 * after `idleMs` without a record for it, so that memory stays bounded however many
 * entity ids pass through. A later record of that entity creates a fresh group.
 *
 * @example
 * readings$.pipe(keyByEntity({ idleMs: 600_000 }), mergeMap((g) => g.pipe(...)))
 */
export function keyByEntity<T extends { entityId: string }>(
  opts: KeyByEntityOptions<T>,
): OperatorFunction<T, GroupedObservable<string, T>> {
  const { idleMs, scheduler = asyncScheduler, holdIdle = () => false, evict = EMPTY } = opts;
  return groupBy((record: T) => record.entityId, {
    // groupBy subscribes the duration before it pushes the group's first record,
    // so the debounce also sees that record and the idle clock starts with it.
    // Like debounceTime(idleMs), but a held entity is checked again every idleMs.
    duration: (group: GroupedObservable<string, T>) =>
      group.pipe(
        switchMap((last) =>
          merge(interval(idleMs, scheduler).pipe(filter(() => !holdIdle(last))), evict.pipe(filter((matches) => matches(last)))).pipe(take(1)),
        ),
      ),
  });
}
