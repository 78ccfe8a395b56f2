import { describe, expect, it } from 'vitest';
import { DEFAULTS, type DetectConfig } from '../../../src/config/schema.ts';
import { createDetector, MODEL_ALERT_KIND, type EntityDetectorSnapshot } from '../../../src/detect/detector.ts';
import type { Window, WindowScore } from '../../../src/types.ts';

const STEP = 60_000;

function win(entityId: string, i: number, value = 1, channels = ['a', 'b']): Window {
  const C = channels.length;
  return {
    entityId,
    channels,
    length: 1,
    startTime: i * STEP,
    endTime: i * STEP,
    timestamps: new Float64Array([i * STEP]),
    values: new Float32Array(C).fill(value + (i % 2) * 0.5),
    hasGap: false,
    sources: [],
    releases: [],
  };
}

const sc = (score: number, warmup = false): WindowScore => ({ score, warmup, pointScores: new Float32Array([score]), channelContributions: new Float32Array([0.25, 0.75]) });
const meta = { scorer: 'baseline', modelVersion: 'v1' };

function config(over: Partial<DetectConfig['threshold']> = {}, rules: Partial<DetectConfig['rules']> = {}): DetectConfig {
  const d = structuredClone(DEFAULTS.detect) as DetectConfig;
  return { ...d, threshold: { ...d.threshold, method: 'fixed', fixedThreshold: 5, warmupWindows: 3, ...over }, rules: { ...d.rules, ...rules } };
}

/** Scores: quiet, one excursion at 10..14, quiet again. */
const SCORES = Array.from({ length: 30 }, (_, i) => (i >= 10 && i < 15 ? 9 : 1));

describe('detector', () => {
  it('holds alerts during warm-up, then opens and resolves one incident for one excursion', () => {
    const d = createDetector(config());
    const early = d.update([win('e', 0), win('e', 1)], [sc(50), sc(50)], meta);
    expect(early.events).toEqual([]);
    expect(early.scored.map((s) => s.detectorState)).toEqual(['warmup', 'warmup']);
    const rest = d.update(
      SCORES.slice(2).map((_, k) => win('e', k + 2)),
      SCORES.slice(2).map((s) => sc(s)),
      meta,
    );
    const model = rest.events.filter((e) => e.kind === MODEL_ALERT_KIND);
    expect(model.map((e) => [e.state, e.startTime / STEP])).toEqual([
      ['open', 10],
      ['resolved', 10],
    ]);
    expect(rest.scored.filter((s) => s.isAnomaly).length).toBe(5);
    expect(model[0].contributions[0]).toEqual({ channel: 'b', share: 0.75 });
  });

  it('scorer warm-up and gap windows are never judged', () => {
    const d = createDetector(config({ warmupWindows: 0 }));
    const gap = { ...win('e', 1), hasGap: true };
    const r = d.update([win('e', 0), gap], [sc(50, true), sc(50)], meta);
    expect(r.events).toEqual([]);
    expect(r.scored.map((s) => s.isAnomaly)).toEqual([false, false]);
  });

  it('resumes from a snapshot: replayed windows raise nothing, and later decisions match an uninterrupted run', () => {
    // Noise-like scores for SPOT to fit, then an excursion at 80..84.
    const raw = Array.from({ length: 120 }, (_, i) => (i >= 80 && i < 85 ? 40 : 1 + Math.abs(Math.sin(i * 12.9898) * 43758.5453) % 1));
    const windows = raw.map((_, i) => win('e', i));
    const scores = raw.map((s) => sc(s));
    const spot = { method: 'spot' as const, nInit: 50, initLevel: 0.9, warmupWindows: 50, q: 0.01 };
    const whole = createDetector(config(spot));
    const expected = whole.update(windows, scores, meta).events.map((e) => e.eventId);
    expect(expected.length).toBeGreaterThan(0);

    const first = createDetector(config(spot));
    const a = first.update(windows.slice(0, 82), scores.slice(0, 82), meta);
    const saved = new Map<string, EntityDetectorSnapshot>(first.takeDirty().map((s) => [s.entityId, JSON.parse(JSON.stringify(s))]));
    expect(first.takeDirty()).toEqual([]);

    // A restart re-reads from the committed offset: windows 79..81 come again.
    const second = createDetector(config(spot), { lookup: (id) => saved.get(id) });
    const b = second.update(windows.slice(79), scores.slice(79), meta);
    expect(b.scored.slice(0, 3).map((s) => s.detectorState)).toEqual(['replay', 'replay', 'replay']);
    expect(b.scored[3].detectorState).not.toBe('warmup');
    expect([...a.events, ...b.events].map((e) => e.eventId)).toEqual(expected);
  });

  it('runs the rules beside the model, each as its own kind', () => {
    const d = createDetector(config({ warmupWindows: 0 }, { outOfRange: { limits: { a: { max: 10 } } } }));
    const r = d.update([win('e', 0, 1), win('e', 1, 50)], [sc(1), sc(1)], meta);
    const opened = r.events.filter((e) => e.state === 'open');
    expect(opened.map((e) => e.kind)).toEqual(['out_of_range']);
    expect(opened[0].contributions[0].channel).toBe('a');
  });

  it('forgets an entity: it starts afresh (or from the state topic) when seen again', () => {
    const d = createDetector(config());
    d.update([win('e', 0), win('e', 1), win('e', 2), win('e', 3)], [sc(1), sc(1), sc(1), sc(1)], meta);
    d.forget('e');
    expect(d.snapshot('e')).toBeUndefined();
    const r = d.update([win('e', 4)], [sc(50)], meta);
    expect(r.scored[0].detectorState).toBe('warmup');
  });
});
