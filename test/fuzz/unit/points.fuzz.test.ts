/**
 * Property: accepted readings → windows → points; every point is exactly one line that a
 * line-protocol reader parses back to the same measurement, tags and fields, and no window
 * carries an entity that was not accepted. And any point: one exact line, or POINT_INVALID.
 */
import fc from 'fast-check';
import { from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { DiffwatchError } from '../../../src/errors.ts';
import { alertPoint, scorePoint } from '../../../src/sinks/influxPoints.ts';
import { toLineProtocol } from '../../../src/sinks/lineProtocol.ts';
import { windowsByEntity } from '../../../src/stream/windowsByEntity.ts';
import type { AnomalyEvent, Reading, ScoredWindow, SourceCoord, Window } from '../../../src/types.ts';
import { expectedNameProblem, expectedVerdict, nameArb, readingArb } from '../support/arbitraries.ts';
import { assertProperty } from '../support/fuzzSeed.ts';
import { parseLine, type ParsedPoint } from '../support/parseLine.ts';

const L = 3;
const stream = { channels: [], allowedLatenessMs: 0, entityIdleMs: 60_000, maxEntities: 100_000, stepMs: 0, maxFillSteps: 0, windowLength: L, hop: 1 };

function windowsOf(readings: Reading[]): { windows: Window[]; late: number; discarded: number } {
  let late = 0;
  let discarded = 0;
  let windows: Window[] = [];
  from(readings).pipe(windowsByEntity({ stream }, { onLate: () => void late++, onDiscard: (s) => void (discarded += s.length) }), toArray())
    .subscribe((ws) => (windows = ws));
  return { windows, late, discarded };
}

const scored = (w: Window): ScoredWindow => ({
  window: w, threshold: 3, isAnomaly: true, scorer: 'baseline', modelVersion: 'baseline@1', detectorState: 'anomalous', likelihood: 0.5,
  score: { pointScores: new Float32Array(w.length), channelContributions: new Float32Array(w.channels.length).fill(1 / w.channels.length), score: 4, warmup: false },
});
const event = (w: Window): AnomalyEvent => ({
  eventId: `${w.entityId}-1`, entityId: w.entityId, kind: 'score', state: 'open', severity: 'warning', startTime: w.startTime, endTime: w.endTime,
  detectedAt: 0, score: 4, threshold: 3, modelVersion: 'baseline@1', contributions: w.channels.map((channel) => ({ channel, share: 1 / w.channels.length })),
});

/** What a point should read back as: bigint stays bigint, empty tags are absent. */
function expected(p: ReturnType<typeof scorePoint>): ParsedPoint {
  const tags = Object.fromEntries(Object.entries(p.tags ?? {}).filter(([, v]) => v !== '' && v !== undefined)) as Record<string, string>;
  // -0 is written as 0 (String(-0)): the same value to every query (a recorded counterexample).
  const fields = Object.fromEntries(Object.entries(p.fields ?? {}).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => [k, v === 0 ? 0 : v])) as ParsedPoint['fields'];
  return { measurement: p.measurement as string, tags, fields, timestamp: p.timestamp as number };
}

describe('fuzz: windows → points → line protocol', () => {
  it('writes each window of accepted readings as one line that parses back exactly', () => {
    const readings = fc.array(readingArb, { maxLength: 40 }).map((rs) => rs.filter((r) => expectedVerdict(r) === undefined && Object.keys(r.values).length > 0));
    assertProperty(fc.property(readings, fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 40 }), (accepted, dupes) => {
      // Duplicate timestamps: some readings repeat their predecessor's time.
      const rs: Reading[] = accepted.map((r, i) => ({ ...r, timestamp: dupes[i] === 0 && i > 0 ? accepted[i - 1].timestamp : r.timestamp, source: { topic: 't', partition: 0, offset: String(i) } as SourceCoord }));
      const { windows, late, discarded } = windowsOf(rs);
      const ids = new Set(rs.map((r) => r.entityId));
      const released = windows.reduce((n, w) => n + w.releases.length, 0);
      expect(released + late + discarded).toBe(rs.length); // every reading is accounted for once
      for (const w of windows) {
        expect(ids.has(w.entityId)).toBe(true);
        for (const p of [scorePoint(scored(w)), alertPoint(event(w))]) {
          const line = toLineProtocol(p);
          expect(parseLine(line)).toEqual(expected(p));
        }
      }
    }), 300);
  });

  it('serialises any point to one exact line, or refuses it with POINT_INVALID', () => {
    const anyText = fc.oneof(nameArb, fc.string({ unit: 'binary', maxLength: 6 }));
    const point = fc.record({
      tags: fc.dictionary(anyText, anyText, { maxKeys: 3 }),
      fields: fc.dictionary(anyText, fc.oneof(fc.double(), fc.boolean(), anyText, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), { minKeys: 1, maxKeys: 3 }),
    });
    assertProperty(fc.property(point, ({ tags, fields }) => {
      const p = { measurement: 'scores', tags, fields, timestamp: 1_000 };
      let line: string;
      try {
        line = toLineProtocol(p);
      } catch (e) {
        if (!(e instanceof DiffwatchError) || e.code !== 'POINT_INVALID') throw e;
        return;
      }
      // Accepted: the names must be writable under the README's rule (minus its invisible-character part).
      // A tag with an empty value is left out of the line, key and all.
      const written = Object.entries(tags).filter(([, v]) => v !== '').flat();
      for (const k of [...written, ...Object.keys(fields)]) {
        const why = expectedNameProblem(k, Infinity);
        expect(why === undefined || why === 'invisible' || why === 'separator' || why === 'replacement', `${JSON.stringify(k)}: ${why}`).toBe(true);
      }
      expect(parseLine(line)).toEqual(expected(p));
    }), 600);
  });
});
