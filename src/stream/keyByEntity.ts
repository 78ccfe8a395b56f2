import { asyncScheduler, debounceTime, groupBy, type GroupedObservable, type OperatorFunction, type SchedulerLike } from 'rxjs';

export interface KeyByEntityOptions {
  /** ms without a record for an entity after which its group completes (its state is dropped). */
  idleMs: number;
  /** Clock for the idle timers; tests pass a TestScheduler. */
  scheduler?: SchedulerLike;
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
  opts: KeyByEntityOptions,
): OperatorFunction<T, GroupedObservable<string, T>> {
  const { idleMs, scheduler = asyncScheduler } = opts;
  return groupBy((record: T) => record.entityId, {
    // groupBy subscribes the duration before it pushes the group's first record,
    // so the debounce also sees that record and the idle clock starts with it.
    duration: (group: GroupedObservable<string, T>) => group.pipe(debounceTime(idleMs, scheduler)),
  });
}
