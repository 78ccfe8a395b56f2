import { describe, expect, it } from 'vitest';
import { createAlertLifecycle, type AlertEvent, type AlertLifecycleOptions, type LifecycleInput } from '../../../src/detect/alertLifecycle.ts';
import { severityOf, validateSeverityLevels } from '../../../src/detect/severity.ts';
import { ConfigError, DiffwatchError } from '../../../src/errors.ts';
import { alertId, eventId } from '../../../src/sinks/alertId.ts';
import { mulberry32 as prng } from '../../../src/random.ts';

const CHANNELS = ['a', 'b', 'c'];

/** A window judged against threshold 10 with keep level 5; triggered means score > 10. */
function inp(endTime: number, score: number, over: Partial<LifecycleInput> = {}): LifecycleInput {
  return { entityId: 'e', kind: 'score', endTime, score, threshold: 10, keepLevel: 5, triggered: score > 10, contributions: [0.2, 0.8, 0], channels: CHANNELS, modelVersion: 'v1', ...over };
}

/** The wall clock of the tests: an hour after the event times' epoch, far from any of them. */
const WALL = 3_600_000;
const fixedClock = () => WALL;

function feed(opts: Partial<AlertLifecycleOptions>, inputs: LifecycleInput[], now: () => number = fixedClock): AlertEvent[] {
  const lc = createAlertLifecycle(opts, undefined, { now });
  return inputs.flatMap((i) => lc.update(i));
}

const brief = (events: readonly AlertEvent[]) => events.map((e) => [e.state, e.endTime, e.severity]);


describe('severity', () => {
  it('maps peak/threshold to the documented levels', () => {
    expect([severityOf(12, 10), severityOf(12.5, 10), severityOf(19.9, 10), severityOf(20, 10)]).toEqual(['info', 'warning', 'warning', 'critical']);
    expect(() => validateSeverityLevels({ warning: 2, critical: 1.5 })).toThrow(ConfigError);
  });
});

describe('alertLifecycle', () => {
  it('opens, escalates with one ongoing, and resolves after the configured number of quiet windows', () => {
    const scores = [1, 12, 30, 11, 3, 2, 1];
    const events = feed({ updateIntervalMs: 0, resolveAfterWindows: 2 }, scores.map((s, i) => inp(1000 * (i + 1), s)));
    expect(brief(events)).toEqual([
      ['open', 2000, 'info'],
      ['ongoing', 3000, 'critical'],
      ['resolved', 6000, 'critical'],
    ]);
    const id = alertId('e', 'score', 2000, 'v1');
    expect(events.map((e) => e.eventId)).toEqual([eventId(id, 'open', 2000), eventId(id, 'ongoing', 3000), eventId(id, 'resolved', 6000)]);
    expect(events.map((e) => [e.startTime, e.endTime, e.detectedAt, e.score, e.threshold])).toEqual([
      [2000, 2000, WALL, 12, 10],
      [2000, 3000, WALL, 30, 10],
      [2000, 6000, WALL, 2, 10],
    ]);
    expect(events[0].contributions).toEqual([
      { channel: 'b', share: 0.8 },
      { channel: 'a', share: 0.2 },
    ]);
  });

  it('throttles ongoing events to one per interval and only on a change', () => {
    const ins = [inp(1000, 11), inp(2000, 40)];
    for (let t = 3000; t <= 21_000; t += 1000) ins.push(inp(t, 40));
    ins.push(inp(22_000, 100), inp(23_000, 300));
    const events = feed({ updateIntervalMs: 10_000, peakGrowth: 1.5 }, ins);
    // 2000 escalates but is inside the interval; 11000 reports it; 21000 has nothing new;
    // 22000 grew the peak 2.5-fold; 23000 grew it again but is inside the interval.
    expect(brief(events)).toEqual([
      ['open', 1000, 'info'],
      ['ongoing', 11_000, 'critical'],
      ['ongoing', 22_000, 'critical'],
    ]);
  });

  it('reports contributions averaged over the incident and updates when the top channel changes', () => {
    const towardA = { contributions: [1, 0, 0] };
    const towardB = { contributions: [0, 1, 0] };
    const events = feed({ updateIntervalMs: 0, topK: 1 }, [inp(1000, 12, towardA), inp(2000, 12, towardB), inp(3000, 12, towardB)]);
    // After the second window the mean is a tie (a wins by name): no change. After the third, b leads.
    expect(events.map((e) => [e.state, e.endTime, e.contributions])).toEqual([
      ['open', 1000, [{ channel: 'a', share: 1 }]],
      ['ongoing', 3000, [{ channel: 'b', share: 2 / 3 }]],
    ]);
  });

  it('holds the incident while the score stays above the keep level (hysteresis)', () => {
    const scores = [12, 8, 7, 9, 6, 4, 8, 4, 3, 2];
    const events = feed({ resolveAfterWindows: 2 }, scores.map((s, i) => inp(1000 * (i + 1), s)));
    // 8..6 are below the open level but above keep; the lone 4 is undone by the 8; 4, 3 resolve.
    expect(brief(events)).toEqual([
      ['open', 1000, 'info'],
      ['resolved', 9000, 'info'],
    ]);
  });

  it('re-opens the same incident within the cooldown and starts a new one after it', () => {
    const events = feed({ resolveAfterWindows: 1, cooldownMs: 10_000 }, [
      inp(1000, 12),
      inp(2000, 1),
      inp(12_000, 12), // exactly cooldownMs after the resolution: still the same incident
      inp(13_000, 1),
      inp(23_001, 12), // 10_001 ms after: a new incident
    ]);
    const first = alertId('e', 'score', 1000, 'v1');
    expect(events.map((e) => [e.state, e.startTime, e.endTime])).toEqual([
      ['open', 1000, 1000],
      ['resolved', 1000, 2000],
      ['open', 1000, 12_000],
      ['resolved', 1000, 13_000],
      ['open', 23_001, 23_001],
    ]);
    expect(events.map((e) => e.eventId)).toEqual([
      eventId(first, 'open', 1000),
      eventId(first, 'resolved', 2000),
      eventId(first, 'open', 12_000),
      eventId(first, 'resolved', 13_000),
      eventId(alertId('e', 'score', 23_001, 'v1'), 'open', 23_001),
    ]);
  });

  it('keeps kinds and entities apart: a rule and the model make separate incidents', () => {
    const lc = createAlertLifecycle({ resolveAfterWindows: 1 });
    const out = [
      ...lc.update(inp(1000, 12)),
      ...lc.update(inp(1000, 12, { kind: 'flatline' })),
      ...lc.update(inp(1000, 12, { entityId: 'f' })),
      ...lc.update(inp(2000, 1)),
      ...lc.update(inp(2000, 12, { kind: 'flatline' })),
    ];
    expect(out.map((e) => [e.entityId, e.kind, e.state])).toEqual([
      ['e', 'score', 'open'],
      ['e', 'flatline', 'open'],
      ['f', 'score', 'open'],
      ['e', 'score', 'resolved'],
    ]);
    expect(new Set(out.slice(0, 3).map((e) => e.eventId)).size).toBe(3);
  });

  it('ignores redelivered windows and windows that cannot be judged', () => {
    const lc = createAlertLifecycle({ resolveAfterWindows: 2 });
    expect(lc.update(inp(1000, 12))).toHaveLength(1);
    expect(lc.update(inp(1000, 12))).toEqual([]); // the same window again
    expect(lc.update(inp(500, 1))).toEqual([]); // an older one
    // A warm-up window neither resolves nor breaks the count of quiet windows.
    expect(lc.update(inp(2000, 1))).toEqual([]);
    expect(lc.update(inp(3000, 1, { warmup: true }))).toEqual([]);
    expect(brief(lc.update(inp(4000, 1)))).toEqual([['resolved', 4000, 'info']]);
  });

  it('with openAfterWindows, a single-window blip opens nothing and a persistent excursion opens at its n-th window', () => {
    const scores = [1, 15, 1, 1, 12, 13, 14, 2, 1, 1, 1];
    const events = feed({ openAfterWindows: 3, updateIntervalMs: 10_000_000, resolveAfterWindows: 2 }, scores.map((s, i) => inp(1000 * (i + 1), s)));
    expect(events.map((e) => [e.state, e.startTime, e.endTime])).toEqual([
      ['open', 7000, 7000],
      ['resolved', 7000, 9000],
    ]);
    // The default opens on the first triggered window, the blip included.
    expect(feed({ resolveAfterWindows: 2 }, scores.map((s, i) => inp(1000 * (i + 1), s))).filter((e) => e.state === 'open').map((e) => e.endTime)).toEqual([2000, 5000]);
  });

  it('does not open during the first warmupWindows judged windows of a key', () => {
    const ins = [inp(1000, 50, { warmup: true }), inp(2000, 50), inp(3000, 50), inp(4000, 50)];
    expect(brief(feed({ warmupWindows: 2 }, ins))).toEqual([['open', 4000, 'critical']]);
  });

  it('attaches rule detail always and the explanation only when configured', () => {
    const explanation = { values: new Float32Array([1, 2, 3]), reconstruction: new Float32Array([1, 2, 2]) };
    const i = inp(1000, 12, { detail: { channel: 'b', value: 99 }, explanation });
    const [off] = feed({}, [i]);
    const [on] = feed({ explain: true }, [i]);
    expect(off.detail).toEqual({ channel: 'b', value: 99 });
    expect(off.explanation).toBeUndefined();
    expect(on.explanation).toEqual({ channels: CHANNELS, values: [1, 2, 3], reconstruction: [1, 2, 2] });
  });

  it('produces the same events on a second run and across a snapshot/restore', () => {
    const rnd = prng(7);
    const ins = Array.from({ length: 200 }, (_, k) => inp(1000 * (k + 1), rnd() < 0.2 ? 10 + 30 * rnd() : 8 * rnd(), { contributions: [rnd(), 0, 0] }));
    const opts = { updateIntervalMs: 5000, cooldownMs: 20_000 };
    const once = feed(opts, ins);
    expect(once.length).toBeGreaterThan(4);
    expect(feed(opts, ins)).toEqual(once);

    const first = createAlertLifecycle(opts, undefined, { now: fixedClock });
    const before = ins.slice(0, 97).flatMap((i) => first.update(i));
    const restored = createAlertLifecycle(opts, JSON.parse(JSON.stringify(first.snapshot())), { now: fixedClock });
    // The restart re-reads from an older committed offset: the replayed windows are ignored.
    const after = ins.slice(80).flatMap((i) => restored.update(i));
    expect([...before, ...after]).toEqual(once);
  });

  it('stamps detectedAt with the wall clock, and a replay at another time keeps every id and event time', () => {
    const ins = [1, 12, 30, 11, 3, 2, 1].map((s, i) => inp(1000 * (i + 1), s));
    const opts = { updateIntervalMs: 0, resolveAfterWindows: 2 };
    let clock = 1_750_000_000_000;
    const live = feed(opts, ins, () => (clock += 7));
    const replay = feed(opts, ins, () => 1_760_000_000_000);
    expect(live.map((e) => e.detectedAt)).toEqual([1_750_000_000_007, 1_750_000_000_014, 1_750_000_000_021]);
    expect(replay.map((e) => e.detectedAt)).toEqual([1_760_000_000_000, 1_760_000_000_000, 1_760_000_000_000]);
    const withoutWallClock = (events: AlertEvent[]) => events.map(({ detectedAt: _, ...rest }) => rest);
    expect(withoutWallClock(replay)).toEqual(withoutWallClock(live));
    expect(live.map((e) => e.endTime)).toEqual([2000, 3000, 6000]);
  });

  it('snapshots one entity at a time, and per-entity snapshots restore together', () => {
    const lc = createAlertLifecycle({ resolveAfterWindows: 1 });
    lc.update(inp(1000, 12));
    lc.update(inp(1000, 12, { entityId: 'f' }));
    const e = lc.snapshot('e');
    const f = lc.snapshot('f');
    expect(e.keys.map((k) => k.entityId)).toEqual(['e']);
    expect(lc.snapshot('nobody').keys).toEqual([]);
    const restored = createAlertLifecycle({ resolveAfterWindows: 1 }, { version: 1, keys: [...e.keys, ...f.keys] });
    expect(restored.update(inp(2000, 1, { entityId: 'f' })).map((ev) => [ev.state, ev.startTime])).toEqual([['resolved', 1000]]);
    // A forgotten entity starts afresh: its next trigger is a new incident.
    restored.forget('e');
    expect(restored.update(inp(2000, 12)).map((ev) => [ev.state, ev.startTime])).toEqual([['open', 2000]]);
  });

  it('turns a level shift whose scores decay and flap around the threshold into one incident', () => {
    const rnd = prng(42);
    const ins: LifecycleInput[] = [];
    for (let k = 0; k < 400; k++) {
      const noise = 6 * rnd();
      // Before the shift scores are noise; after it the baseline adapts and the excess decays.
      const score = k < 100 ? noise : noise + 40 * Math.exp(-(k - 100) / 40);
      ins.push(inp(60_000 * k, score));
    }
    // Opening on every crossing and closing on every dip: the storm operators complain about.
    const naive = feed({ resolveAfterWindows: 1, cooldownMs: 0 }, ins.map((i) => ({ ...i, keepLevel: i.threshold })));
    expect(naive.filter((e) => e.state === 'open').length).toBeGreaterThan(3);

    const events = feed({ resolveAfterWindows: 3, cooldownMs: 30 * 60_000, updateIntervalMs: 15 * 60_000 }, ins);
    expect(new Set(events.map((e) => e.alertId))).toEqual(new Set([alertId('e', 'score', 100 * 60_000, 'v1')]));
    // The shift is critical from its first window, so nothing new is worth an ongoing event.
    expect(events.map((e) => [e.state, e.startTime])).toEqual([
      ['open', 100 * 60_000],
      ['resolved', 100 * 60_000],
    ]);
    // It resolves only after the last crossing the naive rule saw.
    expect(events[1].endTime).toBeGreaterThan(naive.at(-1)!.endTime);
  });

  it('rejects invalid inputs, options and snapshots with typed errors', () => {
    const lc = createAlertLifecycle();
    const err = (() => {
      try {
        lc.update(inp(1000, 12, { threshold: 0 }));
      } catch (e) {
        return e as DiffwatchError;
      }
    })();
    expect(err).toBeInstanceOf(DiffwatchError);
    expect([err!.code, err!.coords.field, err!.coords.entityId]).toEqual(['ALERT_INPUT_INVALID', 'threshold', 'e']);
    expect(() => lc.update(inp(1000, 12, { keepLevel: 11 }))).toThrow(/keepLevel/);
    expect(() => lc.update(inp(1000, NaN))).toThrow(/score/);
    expect(() => lc.update(inp(1000, 12, { contributions: [1] }))).toThrow(/contributions/);
    expect(() => createAlertLifecycle({ resolveAfterWindows: 0 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', coords: { key: 'detect.lifecycle.resolveAfterWindows' } }));
    expect(() => createAlertLifecycle({}, { version: 2 } as never)).toThrow(expect.objectContaining({ code: 'ALERT_SNAPSHOT_INVALID' }));
  });
});
