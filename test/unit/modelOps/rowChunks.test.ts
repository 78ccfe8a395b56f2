/** Collected rows as chunks of the row topic: RowCollector numbering, the chunk codec, and joining the newest run of chunks back. */
import { describe, expect, it } from 'vitest';
import { RowCollector } from '../../../src/modelOps/rowCollector.ts';
import { decodeChunk, encodeChunk, joinChunks, rowsPerChunk } from '../../../src/modelOps/rowChunks.ts';
import type { Window } from '../../../src/types.ts';

const L = 4;

/** The window of `entityId` with points at end-L+1 … end; channel a = t, b = 100 + t. */
function win(entityId: string, end: number): Window {
  const timestamps = Float64Array.from({ length: L }, (_, i) => end - L + 1 + i);
  const values = new Float32Array(L * 2);
  timestamps.forEach((t, i) => ((values[i * 2] = t), (values[i * 2 + 1] = 100 + t)));
  return { entityId, channels: ['a', 'b'], length: L, startTime: timestamps[0], endTime: end, timestamps, values, hasGap: false, sources: [], releases: [] };
}

/** Chunks of `perChunk` rows of a collector, as a flush writes them (latest per slot). */
function chunksOf(r: RowCollector, perChunk: number, slots: number): Buffer[] {
  const bySlot = new Map<number, Buffer>();
  for (let c = 0; c * perChunk < r.appended; c++) {
    const x = r.rows(c * perChunk, (c + 1) * perChunk);
    if (x.timestamps.length === 0) continue;
    bySlot.set(c % slots, encodeChunk({ chunk: c, first: x.first, perChunk, channels: [...r.channels!], newest: r.newestTimes() }, x.timestamps, x.values));
  }
  return [...bySlot.values()];
}

describe('RowCollector numbering', () => {
  it('numbers rows as appended and slices what the ring still holds', () => {
    const r = new RowCollector(6);
    r.add(win('e', 3)); // t 0..3
    r.add(win('e', 7)); // t 4..7: 0 and 1 fall out
    expect(r.appended).toBe(8);
    const x = r.rows(0, 5);
    expect(x.first).toBe(2);
    expect([...x.timestamps]).toEqual([2, 3, 4]);
    expect([...x.values]).toEqual([2, 102, 3, 103, 4, 104]);
  });

  it('restores saved rows: the same series, numbering and dedup of re-read windows', () => {
    const a = new RowCollector(10);
    a.add(win('e', 5));
    const s = a.series();
    const b = new RowCollector(10);
    b.restore({ channels: s.channels, values: s.values, timestamps: s.timestamps, newest: a.newestTimes(), appended: a.appended });
    expect(b.series()).toEqual(s);
    expect(b.appended).toBe(4); // t 2..5
    expect(b.add(win('e', 6))).toBe(1); // t 3..6: only 6 is new
    expect([...b.series().timestamps]).toEqual([2, 3, 4, 5, 6]);
  });
});

describe('row chunks', () => {
  it('encode and decode losslessly (float64)', () => {
    const ts = Float64Array.of(1.5e12, 1.5e12 + 1);
    const v = Float64Array.of(0.1, -2, Math.PI, 1e-300);
    const d = decodeChunk(encodeChunk({ chunk: 3, first: 30, perChunk: 10, channels: ['a', 'b'], newest: { e: 9 } }, ts, v));
    expect(d.header).toMatchObject({ chunk: 3, first: 30, rows: 2, channels: ['a', 'b'], newest: { e: 9 } });
    expect(d.timestamps).toEqual(ts);
    expect(d.values).toEqual(v);
  });

  it('join the newest run of chunks into the ring, after slots were reused', () => {
    const r = new RowCollector(7);
    for (let end = 3; end < 40; end += 4) r.add(win('e', end)); // t 0..39, the ring keeps 33..39
    const perChunk = 3;
    const slots = Math.ceil(7 / perChunk) + 1;
    const joined = joinChunks(chunksOf(r, perChunk, slots))!;
    expect(joined.appended).toBe(40);
    const back = new RowCollector(7);
    back.restore(joined);
    expect(back.series()).toEqual(r.series());
    expect(back.newestTimes()).toEqual({ e: 39 });
  });

  it('stop at a gap: an older chunk left from before is not joined', () => {
    const enc = (chunk: number, t: number) => encodeChunk({ chunk, first: chunk * 2, perChunk: 2, channels: ['a'], newest: { e: t } }, Float64Array.of(t, t + 1), Float64Array.of(t, t + 1));
    const joined = joinChunks([enc(1, 10), enc(4, 40), enc(5, 50)])!;
    expect([...joined.timestamps]).toEqual([40, 41, 50, 51]);
    expect(joined.appended).toBe(12);
  });

  it('hold at most 512 KiB of float64s, whatever the width', () => {
    expect(rowsPerChunk(8)).toBe(256);
    expect(rowsPerChunk(1000) * 1001 * 8).toBeLessThanOrEqual(512 * 1024);
    expect(rowsPerChunk(1e6)).toBe(1);
  });
});
