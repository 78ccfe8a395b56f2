/**
 * A reading delivered twice (re-read after a rebalance, or produced twice) must never enter a
 * window twice. Before the fix, a buffer of 32 rows holding the reading at 00:29 twice made a
 * window ending at 00:30, one step before the first window the data has (00:31).
 */
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type StreamConfig } from '../../../src/config/schema.ts';
import { slidingWindows } from '../../../src/stream/slidingWindows.ts';
import { windowsByEntity } from '../../../src/stream/windowsByEntity.ts';
import type { Reading, SourceCoord, Window } from '../../../src/types.ts';
import { key, reading, row } from './helpers.ts';

const MINUTE = 60_000;
const L = 32;
const stream = (over: Partial<StreamConfig>): { stream: StreamConfig } => ({ stream: { ...DEFAULTS.stream, ...over } });

/** One entity's readings at minutes 0..n-1, each with its own source. */
const series = (n: number): Reading[] => Array.from({ length: n }, (_, i) => reading('e', i * MINUTE, { a: i, b: -i, c: 2 * i }));

function run(input: Reading[], over: Partial<StreamConfig>) {
  const windows: Window[] = [];
  const discarded: SourceCoord[] = [];
  const late: Reading[] = [];
  from(input)
    .pipe(windowsByEntity(stream({ windowLength: L, hop: 1, ...over }), { onLate: (r) => late.push(r), onDiscard: (s) => discarded.push(...s) }))
    .subscribe((w) => windows.push(w));
  return { windows, discarded, late };
}

describe('a reading delivered twice', () => {
  it('never makes a window that ends before the first possible one (the user scenario, unaligned)', () => {
    const readings = series(40);
    // Minutes 0..29 are read, then the reading of 00:29 again (same entity, timestamp and offset), then the rest.
    const input = [...readings.slice(0, 30), { ...readings[29] }, ...readings.slice(30)];
    const { windows, discarded } = run(input, { stepMs: 0 });
    expect(windows.map((w) => w.endTime / MINUTE)).toEqual(Array.from({ length: 40 - L + 1 }, (_, k) => k + L - 1));
    for (const w of windows) {
      expect(new Set(w.timestamps).size, `distinct rows in the window ending ${w.endTime / MINUTE}`).toBe(L);
      expect(w.timestamps[0]).toBe(w.endTime - (L - 1) * MINUTE);
    }
    // The second copy is handed back at once (discarded), so its message is acknowledged.
    expect(discarded.map(key)).toContain(key(input[30].source));
  });

  it('aligned to a step: the copy merges into its step and every window has L distinct rows', () => {
    const readings = series(40);
    const input = [...readings.slice(0, 30), { ...readings[29] }, ...readings.slice(30)];
    const { windows } = run(input, { stepMs: MINUTE });
    expect(windows.map((w) => w.endTime / MINUTE)).toEqual(Array.from({ length: 40 - L + 1 }, (_, k) => k + L - 1));
    for (const w of windows) expect(new Set(w.timestamps).size).toBe(L);
  });

  it('slidingWindows drops a row not newer than the newest row seen and hands its sources to onDiscard', () => {
    const rows = [row('e', 1, [1]), row('e', 2, [2]), row('e', 2, [2]), row('e', 1, [1]), row('e', 3, [3])];
    const windows: Window[] = [];
    const discards: SourceCoord[][] = [];
    from(rows)
      .pipe(slidingWindows({ length: 3, hop: 1, onDiscard: (s) => discards.push(s) }))
      .subscribe((w) => windows.push(w));
    expect(windows.map((w) => Array.from(w.timestamps))).toEqual([[1, 2, 3]]);
    expect(discards[0]).toEqual(rows[2].sources);
    expect(discards[1]).toEqual(rows[3].sources);
  });
});
