import { mergeMap, type Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { StreamConfig } from '../config/schema.ts';
import type { Reading, SourceCoord, Window } from '../types.ts';
import { alignToStep } from './alignToStep.ts';
import { keyByEntity } from './keyByEntity.ts';
import { orderByEventTime } from './orderByEventTime.ts';
import { slidingWindows } from './slidingWindows.ts';

export interface WindowsByEntityHooks {
  /** A reading too late to be placed in its entity's series; the caller counts and acknowledges it. */
  onLate: (reading: Reading) => void;
  /** Sources that will never be released by a window (the entity went idle, or the stream ended). */
  onDiscard: (sources: SourceCoord[], entityId: string) => void;
  /** Clock for the idle expiry; tests pass a TestScheduler. */
  scheduler?: SchedulerLike;
  /** True while an entity's silence must not count as idleness (see keyByEntity `holdIdle`). */
  holdIdle?: (last: Reading) => boolean;
  /** Evict the entities whose last reading matches (see keyByEntity `evict`). */
  evict?: Observable<(last: Reading) => boolean>;
  /** A reading of a new entity while `stream.maxEntities` entities are live; the caller dead-letters and acknowledges it. */
  onRefused?: (reading: Reading) => void;
  /** The number of live entities, each time it changes. */
  onLiveCount?: (live: number) => void;
  /** An entity's buffers are gone (idle, evicted, or the stream ended), after any window they still completed. */
  onEntityEnd?: (entityId: string) => void;
}

/**
 * Readings of many entities → windows of each entity's series:
 * keyByEntity → orderByEventTime → alignToStep → slidingWindows, per entity.
 *
 * When an entity is idle for `entityIdleMs` its group completes: held readings are flushed
 * (they may still complete windows), then the sources left in its buffers go to `onDiscard`.
 *
 * @example
 * readings$.pipe(windowsByEntity(config, { onLate, onDiscard }))
 */
export function windowsByEntity(cfg: { stream: StreamConfig }, hooks: WindowsByEntityHooks): OperatorFunction<Reading, Window> {
  const s = cfg.stream;
  return (source) =>
    source.pipe(
      keyByEntity<Reading>({
        idleMs: s.entityIdleMs,
        scheduler: hooks.scheduler,
        holdIdle: hooks.holdIdle,
        evict: hooks.evict,
        maxEntities: s.maxEntities,
        onRefused: hooks.onRefused,
        onLiveCount: hooks.onLiveCount,
        onEnd: hooks.onEntityEnd,
      }),
      mergeMap((entity) =>
        entity.pipe(
          orderByEventTime<Reading>({ allowedLatenessMs: s.allowedLatenessMs, onLate: hooks.onLate }),
          alignToStep({ stepMs: s.stepMs, maxFillSteps: s.maxFillSteps, channels: s.channels }),
          slidingWindows({ length: s.windowLength, hop: s.hop, onDiscard: hooks.onDiscard }),
        ),
      ),
    );
}
