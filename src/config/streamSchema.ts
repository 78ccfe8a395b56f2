/** The `stream` section: how readings become rows, and rows become windows. */
import { z } from 'zod';
import { int, rules, strArray } from './fields.ts';

export const streamSchema = rules(
  z.strictObject({
    channels: strArray()
      .refine((c) => new Set(c).size === c.length, { error: (iss) => `channel names must be unique, got ${JSON.stringify(iss.input)}` })
      .default([])
      .describe('Channel names in order. Empty: take them from each entity\'s first reading, sorted.'),
    allowedLatenessMs: int(0).default(0).describe('ms; readings up to this much older than the newest seen are reordered, older ones are late.'),
    entityIdleMs: int(1).default(10 * 60_000).describe('ms of wall-clock time without a reading after which an entity\'s state is dropped (bounds memory).'),
    maxEntities: int(1).default(100_000).describe('Most entities with live stream state; a reading of a new entity beyond it is dead-lettered (ENTITY_LIMIT) until an idle entity frees its slot.'),
    stepMs: int(0).default(0).describe('ms; align readings to this step. 0: no alignment (each reading is one row).'),
    maxFillSteps: int(0).default(3).describe('Steps a gap may be forward-filled; a longer gap is marked and its windows are not scored as normal.'),
    windowLength: int(2, 65_536).default(64).describe('Window length L, in points.'),
    hop: int(1).default(1).describe('Hop h between windows, in points (1 = a window per new point); at most windowLength.'),
  }),
  (s, fail) => {
    if (s.hop > s.windowLength) fail(['hop'], `must be at most stream.windowLength (${s.windowLength}), got ${s.hop}`);
  },
).prefault({});

export type StreamConfig = z.output<typeof streamSchema>;
