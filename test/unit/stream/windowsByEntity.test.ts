import { from, map, merge, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type StreamConfig } from '../../../src/config/schema.ts';
import { windowsByEntity } from '../../../src/stream/windowsByEntity.ts';
import type { Reading, SourceCoord, Window } from '../../../src/types.ts';
import { key, prng, reading, testScheduler } from './helpers.ts';

const stream = (over: Partial<StreamConfig>): { stream: StreamConfig } => ({ stream: { ...DEFAULTS.stream, ...over } });

describe('windowsByEntity', () => {
  it('cuts each entity its own windows from interleaved readings', () => {
    const input = [
      reading('a', 1, { x: 1 }),
      reading('b', 1, { x: 100 }),
      reading('a', 2, { x: 2 }),
      reading('b', 2, { x: 200 }),
      reading('a', 3, { x: 3 }),
      reading('a', 4, { x: 4 }),
      reading('b', 3, { x: 300 }),
    ];
    const windows: Window[] = [];
    const discarded: SourceCoord[][] = [];
    from(input)
      .pipe(windowsByEntity(stream({ windowLength: 3, hop: 1 }), { onLate: () => {}, onDiscard: (s) => discarded.push(s), scheduler: testScheduler() }))
      .subscribe((w) => windows.push(w));
    expect(windows.map((w) => [w.entityId, Array.from(w.values)])).toEqual([
      ['a', [1, 2, 3]],
      ['a', [2, 3, 4]],
      ['b', [100, 200, 300]],
    ]);
    expect(windows[2].sources).toEqual([input[1], input[3], input[6]].map((r) => r.source));
    expect(discarded.flat().map(key).sort()).toEqual([input[4], input[5], input[3], input[6]].map((r) => key(r.source)).sort());
  });

  it('routes late readings to onLate and discards an idle entity buffers when it expires', () => {
    const vals = {
      a: reading('e', 100, { x: 1 }),
      b: reading('e', 110, { x: 2 }),
      c: reading('e', 105, { x: 9 }), // older than the last emitted (110): late
      d: reading('e', 120, { x: 3 }),
    };
    const late: Reading[] = [];
    const discards: { at: number; sources: SourceCoord[] }[] = [];
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const cfg = stream({ windowLength: 2, hop: 1, entityIdleMs: 5 });
      const windows = hot('-a-b-c-d--------|', vals).pipe(
        windowsByEntity(cfg, { onLate: (r) => late.push(r), onDiscard: (s) => discards.push({ at: scheduler.now(), sources: s }) }),
        map((w) => Array.from(w.timestamps)),
      );
      expectObservable(windows).toBe('---x---y--------|', { x: [100, 110], y: [110, 120] });
    });
    expect(late).toEqual([vals.c]);
    // idle since d at 7 → the group expires at 12 and hands back the last buffered row.
    expect(discards).toEqual([{ at: 12, sources: [vals.d.source] }]);
  });

  it('property: releases + discards + late readings cover every source exactly once', () => {
    const rand = prng(23);
    for (let trial = 0; trial < 40; trial++) {
      const cfg = stream({
        allowedLatenessMs: Math.floor(rand() * 30),
        entityIdleMs: 5 + Math.floor(rand() * 20),
        stepMs: rand() < 0.5 ? 0 : 5,
        maxFillSteps: Math.floor(rand() * 3),
        windowLength: 1 + Math.floor(rand() * 6),
        hop: 1 + Math.floor(rand() * 4),
      });
      const entities = ['p', 'q', 'r'];
      const clock: Record<string, number> = { p: 0, q: 0, r: 0 };
      // arrival frame (virtual ms, strictly rising) and a reading with some event-time disorder
      const arrivals: [number, Reading][] = [];
      let frame = 0;
      for (let i = 0; i < 150; i++) {
        frame += 1 + (rand() < 0.05 ? 40 : Math.floor(rand() * 3));
        const e = entities[Math.floor(rand() * entities.length)];
        clock[e] += Math.floor(rand() * 12);
        arrivals.push([frame, reading(e, clock[e] - Math.floor(rand() * 25), rand() < 0.2 ? { u: i } : { u: i, v: -i })]);
      }

      const windows: Window[] = [];
      const handedBack: SourceCoord[] = [];
      testScheduler().run(() => {
        merge(...arrivals.map(([at, r]) => timer(at).pipe(map(() => r))))
          .pipe(windowsByEntity(cfg, { onLate: (r) => handedBack.push(r.source), onDiscard: (s) => handedBack.push(...s) }))
          .subscribe((w) => {
            windows.push(w);
            handedBack.push(...w.releases);
          });
      });

      const keys = handedBack.map(key);
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.sort()).toEqual(arrivals.map(([, r]) => key(r.source)).sort());
      for (const w of windows) expect(w.length).toBe(cfg.stream.windowLength);
    }
  });
});
