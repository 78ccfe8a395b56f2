/**
 * The most recent rows of the windows a model key has seen, as a training series: each
 * window's points not seen before (per entity, by timestamp) are appended, the oldest rows
 * fall out beyond `capacity`. Gap rows (non-finite values) are skipped. For a group, rows of
 * several entities follow each other in arrival order; a training window that straddles two
 * entities is rare (L-1 of every switch) and looks like noise to the model, not like a pattern.
 *
 * Example:
 *   const rows = new RowCollector(2_063);      // 2,000 windows of 64 points
 *   rows.add(window);                          // for each window of the key
 *   if (rows.size >= 2_063) train(rows.series());
 */
import type { Window } from '../types.ts';
import type { TrainSeries } from '../model/trainer.ts';

export class RowCollector {
  private values: Float64Array = new Float64Array(0); // ring, [capacity, C]
  private times: Float64Array = new Float64Array(0); // ring, [capacity]
  private head = 0; // next write position
  private count = 0;
  private C = 0;
  private order: readonly string[] | undefined;
  /** Newest timestamp taken per entity, so that overlapping windows add each point once. */
  private readonly newest = new Map<string, number>();
  private readonly maps = new WeakMap<readonly string[], Int32Array | undefined>();

  constructor(readonly capacity: number) {}

  /** Rows held (at most `capacity`). */
  get size(): number {
    return this.count;
  }

  /** The channel order of the series: that of the first window added. */
  get channels(): readonly string[] | undefined {
    return this.order;
  }

  /** Append the window's new points; returns how many rows were added. A window whose channels differ from the first is ignored (returns -1). */
  add(w: Window): number {
    if (!this.order) {
      this.order = [...w.channels];
      this.C = w.channels.length;
      this.values = new Float64Array(this.capacity * this.C);
      this.times = new Float64Array(this.capacity);
    }
    const map = this.channelMap(w);
    if (!map) return -1;
    const C = this.C;
    const last = this.newest.get(w.entityId) ?? -Infinity;
    let added = 0;
    for (let i = 0; i < w.length; i++) {
      const t = w.timestamps[i];
      if (t <= last) continue;
      let finite = true;
      for (let c = 0; c < C; c++) finite &&= Number.isFinite(w.values[i * C + map[c]]);
      if (!finite) continue;
      for (let c = 0; c < C; c++) this.values[this.head * C + c] = w.values[i * C + map[c]];
      this.times[this.head] = t;
      this.head = (this.head + 1) % this.capacity;
      this.count = Math.min(this.count + 1, this.capacity);
      added++;
    }
    if (w.length > 0) this.newest.set(w.entityId, Math.max(last, w.timestamps[w.length - 1]));
    return added;
  }

  /** Never take the window's points: later windows add only points newer than its end. */
  skip(w: Window): void {
    if (w.length === 0) return;
    const last = this.newest.get(w.entityId) ?? -Infinity;
    this.newest.set(w.entityId, Math.max(last, w.timestamps[w.length - 1]));
  }

  /** A copy of the rows, oldest first: `values` `[N, C]` row-major, N timestamps. */
  series(): TrainSeries {
    const N = this.count;
    const C = this.C;
    const values = new Float64Array(N * C);
    const timestamps = new Float64Array(N);
    const first = (this.head - N + this.capacity) % this.capacity;
    for (let n = 0; n < N; n++) {
      const at = (first + n) % this.capacity;
      values.set(this.values.subarray(at * C, (at + 1) * C), n * C);
      timestamps[n] = this.times[at];
    }
    return { values, timestamps, channels: [...(this.order ?? [])] };
  }

  /** Forget the rows (kept: the channel order and each entity's newest timestamp). */
  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  /** For each channel of the series, its index in the window; cached per channel list, which the stream shares between an entity's windows. */
  private channelMap(w: Window): Int32Array | undefined {
    if (this.maps.has(w.channels)) return this.maps.get(w.channels);
    const order = this.order!;
    const at = new Map(w.channels.map((c, i) => [c, i]));
    const map = w.channels.length !== order.length || order.some((c) => !at.has(c)) ? undefined : Int32Array.from(order, (c) => at.get(c)!);
    this.maps.set(w.channels, map);
    return map;
  }
}
