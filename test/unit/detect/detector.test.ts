import { describe, expect, it } from 'vitest';
import { DEFAULTS, type DetectConfig } from '../../../src/config/schema.ts';
import { createDetector, MODEL_ALERT_KIND, type EntityDetectorSnapshot } from '../../../src/detect/detector.ts';
import type { ValidationQuantiles } from '../../../src/detect/calibration.ts';
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

/** A score of one model version, as the model registry returns it. */
const scv = (score: number, modelVersion: string, warmup = false): WindowScore => ({ ...sc(score, warmup), modelVersion });
const quantiles = (p50: number): ValidationQuantiles => ({ p50, p90: 2 * p50, p95: 3 * p50, p99: 4 * p50, p999: 5 * p50, max: 6 * p50 });

/**
 * A prior like the model registry's: the validation quantiles of the entity's live model,
 * none while it has no model. Records the version live at each call.
 */
function priorSpy() {
  const spy = { live: 'none', calls: [] as { entityId: string; live: string }[], byVersion: { v1: quantiles(2), v2: quantiles(7) } as Record<string, ValidationQuantiles> };
  const prior = (entityId: string) => {
    spy.calls.push({ entityId, live: spy.live });
    return spy.byVersion[spy.live];
  };
  return { spy, prior };
}

describe('detector: model versions per window', () => {
  it('re-creates the threshold state with the prior when the first model arrives after warm-up', () => {
    const { spy, prior } = priorSpy();
    const d = createDetector(config({ warmupWindows: 0 }), { prior });
    const warm = d.update([win('e', 0), win('e', 1)], [scv(NaN, 'none', true), scv(NaN, 'none', true)], meta);
    expect(warm.scored.map((s) => s.detectorState)).toEqual(['warmup', 'warmup']);
    // Created on the first window, when there was no model yet: no prior.
    expect(spy.calls).toEqual([{ entityId: 'e', live: 'none' }]);
    expect(d.snapshot('e')).toMatchObject({ modelVersion: 'none', threshold: { seen: 0, calibration: { scale: null } } });

    spy.live = 'v1';
    const first = d.update([win('e', 2)], [scv(1, 'v1')], meta);
    expect(spy.calls).toEqual([
      { entityId: 'e', live: 'none' },
      { entityId: 'e', live: 'v1' },
    ]);
    // The calibration starts from v1's validation scores: its scale is their p50, and the very
    // first score already has a likelihood (without a prior it would be 0.5 until minHistory).
    expect(d.snapshot('e')).toMatchObject({ modelVersion: 'v1', threshold: { seen: 1, calibration: { scale: 2 } } });
    expect(first.scored[0].modelVersion).toBe('v1');
    expect(first.scored[0].likelihood).not.toBeCloseTo(0.5, 3);
  });

  it('ends in the same calibration as an entity whose model was live from its first window', () => {
    // Without the re-creation, the warm-up path would keep the prior-less state it was created with.
    const { spy, prior } = priorSpy();
    spy.live = 'v1';
    const d = createDetector(config({ warmupWindows: 0 }), { prior });
    const r = d.update([win('e', 2)], [scv(1, 'v1')], meta);
    expect(spy.calls).toHaveLength(1);
    expect(d.snapshot('e')).toMatchObject({ modelVersion: 'v1', threshold: { seen: 1, calibration: { scale: 2 } } });

    const late = priorSpy();
    const d2 = createDetector(config({ warmupWindows: 0 }), { prior: late.prior });
    d2.update([win('e', 0), win('e', 1)], [scv(NaN, 'none', true), scv(NaN, 'none', true)], meta);
    late.spy.live = 'v1';
    const r2 = d2.update([win('e', 2)], [scv(1, 'v1')], meta);
    expect(r2.scored[0].likelihood).toBe(r.scored[0].likelihood);
    expect(d2.snapshot('e')!.threshold.calibration).toEqual(d.snapshot('e')!.threshold.calibration);
  });

  it('a warm-up window does not spend the re-creation: the first scored window still gets the prior', () => {
    const { spy, prior } = priorSpy();
    const d = createDetector(config({ warmupWindows: 0 }), { prior });
    d.update([win('e', 0)], [scv(NaN, 'none', true)], meta);
    spy.live = 'v1';
    d.update([win('e', 1), win('e', 2)], [scv(NaN, 'none', true), scv(1, 'v1')], meta);
    expect(spy.calls.map((c) => c.live)).toEqual(['none', 'v1']);
    expect(d.snapshot('e')!.threshold.calibration.scale).toBe(2);
  });

  it('a later version change starts a threshold state of its own, from the new version\'s prior', () => {
    const { spy, prior } = priorSpy();
    const d = createDetector(config({ warmupWindows: 0 }), { prior });
    d.update([win('e', 0)], [scv(NaN, 'none', true)], meta);
    spy.live = 'v1';
    d.update([win('e', 1), win('e', 2), win('e', 3)], [scv(1, 'v1'), scv(1.2, 'v1'), scv(0.9, 'v1')], meta);
    expect(d.snapshot('e')!.threshold.seen).toBe(3);
    expect(spy.calls).toHaveLength(2);

    spy.live = 'v2'; // a fine-tuned version is swapped in
    const r = d.update([win('e', 4)], [scv(1.1, 'v2')], meta);
    expect(spy.calls.map((c) => c.live)).toEqual(['none', 'v1', 'v2']);
    const after = d.snapshot('e')!;
    expect(after.modelVersion).toBe('v2');
    expect(after.threshold.seen).toBe(1); // v2's windows only
    expect(after.threshold.calibration.scale).toBe(7); // v2's prior, not v1's 2
    expect(r.scored[0].modelVersion).toBe('v2');
  });

  it('the incident open at a swap resolves at the previous levels; nothing opens while the new version\'s state warms up', () => {
    const lifecycle = { ...DEFAULTS.detect.lifecycle, openAfterWindows: 1, resolveAfterWindows: 2, cooldownMs: 0 };
    const d = createDetector({ ...config({ warmupWindows: 5 }), lifecycle });
    // v1 warms up (0-4) and opens at 5; v2 takes over at 8 while the incident is open.
    const raw = [1, 1, 1, 1, 1, 9, 9, 9, 9, 1, 1, 9, 1, 1, 9];
    const r = d.update(raw.map((_, i) => win('e', i)), raw.map((x, i) => scv(x, i < 8 ? 'v1' : 'v2')), meta);
    const events = r.events.filter((e) => e.kind === MODEL_ALERT_KIND && e.state !== 'ongoing').map((e) => [e.state, e.startTime / STEP, e.endTime / STEP, e.modelVersion]);
    expect(events).toEqual([
      ['open', 5, 5, 'v1'],
      ['resolved', 5, 10, 'v1'], // 9 and 10 below the carried keep level
      ['open', 14, 14, 'v2'], // 11 is in v2's warm-up: nothing opens; 14 is judged by v2's own levels
    ]);
    expect(r.scored.slice(8).map((s) => s.detectorState)).toEqual(['anomalous', 'warmup', 'warmup', 'warmup', 'warmup', 'normal', 'anomalous']);
    expect(d.snapshot('e')!.threshold.seen).toBe(7); // v2's windows only
  });

  it('ScoredWindow.modelVersion comes from each window\'s score, falling back to meta', () => {
    const d = createDetector(config({ warmupWindows: 0 }));
    const r = d.update([win('a', 0), win('b', 0), win('c', 0), win('d', 0)], [scv(1, 'va'), scv(1, 'vb'), scv(NaN, 'none', true), sc(1)], { scorer: 'diffusion', modelVersion: 'meta-version' });
    expect(r.scored.map((s) => s.modelVersion)).toEqual(['va', 'vb', 'none', 'meta-version']);
    expect(d.snapshot('b')?.modelVersion).toBe('vb');
    expect(d.snapshot('d')?.modelVersion).toBe('meta-version');
  });

  it('alert events carry the version of the window that opened them, not meta.modelVersion', () => {
    const d = createDetector(config({ warmupWindows: 0 }));
    const meta2 = { scorer: 'diffusion', modelVersion: 'meta-version' };
    const windows = [win('p', 0), win('q', 0), win('p', 1), win('q', 1), win('p', 2), win('q', 2)];
    const scores = [scv(1, 'pv1'), scv(1, 'qv1'), scv(9, 'pv1'), scv(9, 'qv2'), scv(1, 'pv1'), scv(1, 'qv2')];
    const r = d.update(windows, scores, meta2);
    const opened = r.events.filter((e) => e.kind === MODEL_ALERT_KIND && e.state === 'open');
    // q's model changed from qv1 to qv2 just before its excursion: the event names qv2.
    expect(opened.map((e) => [e.entityId, e.modelVersion, e.startTime / STEP])).toEqual([
      ['p', 'pv1', 1],
      ['q', 'qv2', 1],
    ]);
    expect(r.scored.filter((s) => s.isAnomaly).map((s) => s.modelVersion)).toEqual(['pv1', 'qv2']);
  });
});
