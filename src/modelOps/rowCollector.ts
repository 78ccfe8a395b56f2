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
  private total = 0; // rows ever appended: the sequence number of the next row
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

  /** Rows ever appended (kept by `clear`): row `s` of the sequence is the s-th row added. */
  get appended(): number {
    return this.total;
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
      this.push();
      added++;
    }
    if (w.length > 0) this.newest.set(w.entityId, Math.max(last, w.timestamps[w.length - 1]));
    return added;
  }

  private push(): void {
    this.head = (this.head + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
    this.total++;
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

  /**
   * Rows `[from, to)` of the sequence still held, oldest first (`from` is raised to the oldest
   * held): what rowLog.ts writes as one chunk.
   */
  rows(from: number, to: number): { first: number; values: Float64Array; timestamps: Float64Array } {
    const C = this.C;
    const first = Math.max(from, this.total - this.count);
    const n = Math.max(0, Math.min(to, this.total) - first);
    const values = new Float64Array(n * C);
    const timestamps = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const at = (this.head - (this.total - (first + i)) + 2 * this.capacity) % this.capacity; // ring position of sequence number first + i
      values.set(this.values.subarray(at * C, (at + 1) * C), i * C);
      timestamps[i] = this.times[at];
    }
    return { first, values, timestamps };
  }

  /** Newest timestamp taken per entity. */
  newestTimes(): Record<string, number> {
    return Object.fromEntries(this.newest);
  }

  /**
   * Start from saved rows (rowLog.ts): the newest `capacity` of them, numbered so that the last
   * is row `appended - 1`, and each entity's newest timestamp, so re-read windows add nothing twice.
   */
  restore(saved: { channels: readonly string[]; values: Float64Array; timestamps: Float64Array; newest: Record<string, number>; appended: number }): void {
    if (this.total > 0 || saved.timestamps.length === 0) return;
    this.order = [...saved.channels];
    this.C = saved.channels.length;
    this.values = new Float64Array(this.capacity * this.C);
    this.times = new Float64Array(this.capacity);
    const C = this.C;
    const N = saved.timestamps.length;
    this.total = saved.appended - Math.min(N, this.capacity);
    for (let n = Math.max(0, N - this.capacity); n < N; n++) {
      this.values.set(saved.values.subarray(n * C, (n + 1) * C), this.head * C);
      this.times[this.head] = saved.timestamps[n];
      this.push();
    }
    for (const [id, t] of Object.entries(saved.newest)) this.newest.set(id, Math.max(t, this.newest.get(id) ?? -Infinity));
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
