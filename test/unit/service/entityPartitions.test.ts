import { Subject, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type StreamConfig } from '../../../src/config/schema.ts';
import { createEntityPartitions } from '../../../src/service/entityPartitions.ts';
import { windowsByEntity } from '../../../src/stream/windowsByEntity.ts';
import type { Reading } from '../../../src/types.ts';
import { reading, src, testScheduler } from '../stream/helpers.ts';

const stream = (over: Partial<StreamConfig>): { stream: StreamConfig } => ({ stream: { ...DEFAULTS.stream, ...over } });
const P0 = { topic: 'telemetry', partition: 0 };
const P1 = { topic: 'telemetry', partition: 1 };

describe('createEntityPartitions', () => {
  it('forgets an entity whose buffer ended before it had a window', () => {
    const notes = createEntityPartitions();
    notes.read('once', P0);
    notes.ended('once');
    expect(notes.size).toBe(0);
    expect(notes.takeOf([P0])).toEqual([]);
  });

  it('keeps an entity that had a window after its buffer ended, until its partition is revoked', () => {
    const notes = createEntityPartitions();
    notes.read('pump', P0);
    notes.windowed('pump');
    notes.ended('pump');
    notes.read('fan', P1);
    expect(notes.takeOf([P0])).toEqual(['pump']);
    expect(notes.takeOf([P0])).toEqual([]);
    expect(notes.takeOf([P1])).toEqual(['fan']);
    expect(notes.size).toBe(0);
  });

  it('notes the partition of the newest reading', () => {
    const notes = createEntityPartitions();
    notes.read('pump', P0);
    notes.read('pump', P1);
    expect(notes.takeOf([P0])).toEqual([]);
    expect(notes.takeOf([P1])).toEqual(['pump']);
  });
});

describe('entity partition notes wired to the stream, as the service wires them', () => {
  it('a flood of entities seen once leaves no note once they are idle; an entity with windows keeps its note', () => {
    const notes = createEntityPartitions();
    const scheduler = testScheduler();
    const idleMs = 50;
    scheduler.run(({ flush }) => {
      const readings = new Subject<Reading>();
      readings
        .pipe(
          windowsByEntity(stream({ windowLength: 3, hop: 1, entityIdleMs: idleMs }), { onLate: () => {}, onDiscard: () => {}, onEntityEnd: (id) => notes.ended(id), scheduler }),
          tap((w) => notes.windowed(w.entityId)),
        )
        .subscribe();
      const send = (r: Reading) => {
        notes.read(r.entityId, r.source);
        readings.next(r);
      };
      for (let i = 0; i < 4; i++) send(reading('pump', 1_000 + i, { x: i }, src(0)));
      for (let e = 0; e < 1_000; e++) send(reading(`once-${e}`, 1_000, { x: 1 }, src(e % 2)));
      expect(notes.size).toBe(1_001);
      scheduler.schedule(() => readings.complete(), 10 * idleMs);
      flush();
    });
    // Every one-off entity expired without a window: nothing of it is left.
    expect(notes.size).toBe(1);
    expect(notes.takeOf([P0, P1])).toEqual(['pump']);
  });
});
