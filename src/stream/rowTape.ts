import type { Row, SourceCoord } from '../types.ts';

/** Rows a tape holds per window length: copying the buffered rows to a new chunk costs about 1/3 row per row. */
const CHUNK_WINDOWS = 4;

/** Views of rows `[from, to)` of a tape: a window's data without a copy. */
export interface TapeSlice {
  /** `[to - from, C]`, row-major. */
  values: Float32Array;
  timestamps: Float64Array;
  hasGap: boolean;
  /** The rows' sources, oldest row first (a new array). */
  sources: SourceCoord[];
}

/**
 * One entity's rows in a chunk of typed arrays, appended in order; a window is a view of its
 * newest rows, not a copy. A row, once written, is never written again: when the chunk is full,
 * the rows still buffered are copied to the start of a new chunk, and the windows already handed
 * out keep the old chunk alive until they are dropped. So a view never changes under its window.
 *
 * The buffered rows are `[first, end)`: rows before `first` left the buffer (their sources were
 * released) but may still be read by windows already cut.
 */
export class RowTape {
  private values: Float32Array; // [capacity, C]
  private timestamps: Float64Array; // [capacity]
  /** Gap rows before row i, `[capacity + 1]`: a range's gaps by one subtraction. */
  private gapsBefore: Int32Array;
  /** The rows' sources, flat; row i's are `sources[sourceStart[i] .. sourceStart[i + 1])`. */
  private sources: SourceCoord[] = [];
  private sourceStart: Int32Array; // [capacity + 1]
  private first = 0;
  private end = 0;

  constructor(readonly channels: number, windowLength: number) {
    const capacity = CHUNK_WINDOWS * windowLength;
    this.values = new Float32Array(capacity * channels);
    this.timestamps = new Float64Array(capacity);
    this.gapsBefore = new Int32Array(capacity + 1);
    this.sourceStart = new Int32Array(capacity + 1);
  }

  /** Rows in the buffer. */
  get buffered(): number {
    return this.end - this.first;
  }

  push(row: Row): void {
    const C = this.channels;
    if (row.values.length !== C) throw new RangeError(`rowTape: a row of ${row.values.length} values on a tape of ${C} channels (entity ${row.entityId})`);
    if (this.end === this.timestamps.length) this.roll();
    const i = this.end++;
    this.values.set(row.values, i * C);
    this.timestamps[i] = row.timestamp;
    this.gapsBefore[i + 1] = this.gapsBefore[i] + (row.gap ? 1 : 0);
    for (const s of row.sources) this.sources.push(s);
    this.sourceStart[i + 1] = this.sources.length;
  }

  /** The newest `n` rows (n ≤ buffered). */
  newest(n: number): TapeSlice {
    const from = this.end - n;
    const C = this.channels;
    return {
      values: this.values.subarray(from * C, this.end * C),
      timestamps: this.timestamps.subarray(from, this.end),
      hasGap: this.gapsBefore[this.end] - this.gapsBefore[from] > 0,
      sources: this.sources.slice(this.sourceStart[from], this.sourceStart[this.end]),
    };
  }

  /** Takes the `n` oldest buffered rows out of the buffer; appends their sources to `into`. */
  dropOldest(n: number, into: SourceCoord[]): void {
    const to = Math.min(this.first + n, this.end);
    for (let k = this.sourceStart[this.first]; k < this.sourceStart[to]; k++) into.push(this.sources[k]);
    this.first = to;
  }

  /** Copies the buffered rows to the start of a new chunk; the old one stays with the windows that view it. */
  private roll(): void {
    const { first, end, channels: C } = this;
    const n = end - first;
    const values = new Float32Array(this.values.length);
    values.set(this.values.subarray(first * C, end * C));
    const timestamps = new Float64Array(this.timestamps.length);
    timestamps.set(this.timestamps.subarray(first, end));
    // Both running counts restart at the first buffered row.
    const gapsBefore = new Int32Array(this.gapsBefore.length);
    const sourceStart = new Int32Array(this.sourceStart.length);
    const g0 = this.gapsBefore[first];
    const s0 = this.sourceStart[first];
    for (let i = 0; i <= n; i++) {
      gapsBefore[i] = this.gapsBefore[first + i] - g0;
      sourceStart[i] = this.sourceStart[first + i] - s0;
    }
    this.sources = this.sources.slice(s0, this.sourceStart[end]);
    this.values = values;
    this.timestamps = timestamps;
    this.gapsBefore = gapsBefore;
    this.sourceStart = sourceStart;
    this.first = 0;
    this.end = n;
  }
}
