/**
 * The error path of a window that InfluxDB did not store. A window counts as written only when
 * every point built from it (its `scores` point, and the `alerts` points of its events) was
 * acknowledged. When the writer reports one of them rejected (refused before sending as
 * POINT_INVALID, or answered 400 by InfluxDB, e.g. a field-type conflict or a partial write,
 * as SINK_REJECTED), the window:
 *
 * - goes to `<topic>.dlq` of its newest message, keyed by entity, with a JSON summary of the
 *   window as value and the error code (`dlq.error.code`) and message in the headers;
 * - is counted in `diffwatch_windows_rejected_total{code}`, not in `diffwatch_windows_scored_total`;
 * - releases its messages only once the dead letter is acknowledged, like bad input: a poison
 *   point never stalls a partition, and is never reported as written.
 */
import type { DiffwatchError } from '../errors.ts';
import type { DeadLetter } from '../ingest/deadLetter.ts';
import type { RejectedPoint } from '../sinks/influxWriter.ts';
import type { AnomalyEvent, Window } from '../types.ts';

/** The window an alert point belongs to: the one that ended when the event did, else the entity's newest in the batch. */
export function windowOfEvent(batch: readonly Window[], e: AnomalyEvent): Window | undefined {
  const own = batch.filter((w) => w.entityId === e.entityId);
  return own.find((w) => w.endTime === e.endTime) ?? own.at(-1);
}

/** The windows (each with its first error) whose points were rejected; `owners[i]` owns point i. */
export function windowsOfRejectedPoints(owners: readonly (Window | undefined)[], rejected: readonly RejectedPoint[]): Map<Window, DiffwatchError> {
  const failed = new Map<Window, DiffwatchError>();
  for (const r of rejected) {
    const w = owners[r.index];
    if (w && !failed.has(w)) failed.set(w, r.error);
  }
  return failed;
}

/** The dead letter of one rejected window, or undefined when it has no source message. */
export function rejectedWindowLetter(w: Window, error: DiffwatchError): DeadLetter | undefined {
  const source = w.sources.at(-1);
  if (!source) return undefined;
  const value = JSON.stringify({
    entityId: w.entityId, startTime: w.startTime, endTime: w.endTime, channels: w.channels, length: w.length, sources: w.sources,
  });
  return { source, key: w.entityId, value, error };
}
