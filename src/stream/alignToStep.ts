import { Observable, type OperatorFunction } from 'rxjs';
import type { Reading, Row, SourceCoord } from '../types.ts';

export interface AlignToStepOptions {
  /** ms between aligned rows. 0: no alignment, every reading becomes one row at its own timestamp. */
  stepMs: number;
  /** Missing steps a hole may be forward-filled; a longer hole becomes one gap row. */
  maxFillSteps: number;
  /** Channel order of the rows. Empty: the first reading's channel names, sorted. */
  channels: readonly string[];
}

interface Bucket {
  timestamp: number;
  values: Float64Array;
  sources: SourceCoord[];
}

/**
 * Turns one entity's event-time-ordered readings into rows on a fixed step.
 *
 * Readings of one step (`floor(ts / stepMs) * stepMs`) merge: the last value of each channel
 * wins and all their sources are kept; the row is emitted when a later step starts, or on
 * completion. A channel a reading lacks is carried forward from the last row with data; a
 * channel never seen is NaN and makes the row a gap. A hole of k missing steps is filled with
 * k copies of the previous row when k <= maxFillSteps, otherwise it becomes ONE gap row
 * (NaN values, at the first missing step), so a long silence costs one row, not one per step.
 *
 * @example
 * ordered$.pipe(alignToStep({ stepMs: 1_000, maxFillSteps: 3, channels: [] }))
 */
export function alignToStep(opts: AlignToStepOptions): OperatorFunction<Reading, Row> {
  const { stepMs, maxFillSteps } = opts;
  return (source) =>
    new Observable<Row>((subscriber) => {
      let channels: readonly string[] | null = opts.channels.length > 0 ? [...opts.channels] : null;
      let entityId = '';
      // Values of the last row that carried data: the forward-fill source. Gap rows do not reset it.
      let lastKnown: Float64Array | null = null;
      let pending: Bucket | null = null;

      const row = (timestamp: number, values: Float64Array, sources: SourceCoord[], filled: boolean): Row => {
        const r: Row = { entityId, timestamp, channels: channels!, values, sources };
        if (filled) r.filled = true;
        if (hasNaN(values)) r.gap = true;
        return r;
      };

      const flushPending = () => {
        if (!pending) return;
        lastKnown = pending.values;
        subscriber.next(row(pending.timestamp, pending.values, pending.sources, false));
        pending = null;
      };

      const fillHole = (from: number, to: number) => {
        const missing = Math.round((to - from) / stepMs) - 1;
        if (missing <= 0) return;
        if (missing <= maxFillSteps) {
          for (let k = 1; k <= missing; k++) subscriber.next(row(from + k * stepMs, lastKnown!.slice(), [], true));
        } else {
          const gap: Row = { entityId, timestamp: from + stepMs, channels: channels!, values: new Float64Array(channels!.length).fill(NaN), sources: [], gap: true };
          subscriber.next(gap);
        }
      };

      const onReading = (reading: Reading) => {
        if (channels === null) channels = Object.keys(reading.values).sort();
        if (lastKnown === null) lastKnown = new Float64Array(channels.length).fill(NaN);
        entityId = reading.entityId;
        if (stepMs <= 0) {
          const values = overwrite(lastKnown.slice(), channels, reading.values);
          lastKnown = values;
          subscriber.next(row(reading.timestamp, values, [reading.source], false));
          return;
        }
        const bucket = Math.floor(reading.timestamp / stepMs) * stepMs;
        // A reading for an earlier step can only come from unordered input; merging it into the
        // open step keeps its source accounted for instead of dropping it.
        if (pending && bucket <= pending.timestamp) {
          overwrite(pending.values, channels, reading.values);
          pending.sources.push(reading.source);
          return;
        }
        const previous = pending?.timestamp;
        flushPending();
        if (previous !== undefined) fillHole(previous, bucket);
        pending = { timestamp: bucket, values: overwrite(lastKnown!.slice(), channels, reading.values), sources: [reading.source] };
      };

      return source.subscribe({
        next: onReading,
        error: (err) => subscriber.error(err),
        complete: () => {
          flushPending();
          subscriber.complete();
        },
      });
    });
}

/** Writes the reading's values of the known channels into `target`; unknown channels are ignored. */
function overwrite(target: Float64Array, channels: readonly string[], values: Record<string, number>): Float64Array {
  for (let c = 0; c < channels.length; c++) {
    const v = values[channels[c]];
    if (v !== undefined) target[c] = v;
  }
  return target;
}

function hasNaN(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) return true;
  return false;
}
