/**
 * The detector with `judge: 'onset'`: it must decide exactly as the onset scorer it wraps (the
 * module the NAB harness measures), alert once per excursion after its warm-up, and survive a
 * restart through its snapshot without changing a single decision.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type DetectConfig } from '../../../src/config/schema.ts';
import { createDetector, MODEL_ALERT_KIND, type EntityDetectorSnapshot } from '../../../src/detect/detector.ts';
import { OnsetScorer } from '../../../src/detect/onsetScorer.ts';
import { mulberry32 } from '../../../src/random.ts';
import type { Window, WindowScore } from '../../../src/types.ts';

const STEP = 60_000;
const L = 4;
const N = 400;

/** A noisy level with a jump of the value at 150 (a new maximum) and bursts of model error (default: 50 at 300–309). */
function stream(seed = 1, bursts: { from: number; to: number; size: number }[] = [{ from: 300, to: 310, size: 50 }]): { windows: Window[]; scores: WindowScore[] } {
  const rng = mulberry32(seed);
  const values = Array.from({ length: N + L }, (_, i) => 10 + rng() + (i === 150 + L - 1 ? 8 : 0));
  const windows: Window[] = [];
  const scores: WindowScore[] = [];
  for (let k = 0; k < N; k++) {
    const v = Float32Array.from(values.slice(k, k + L));
    windows.push({ entityId: 'e', channels: ['x'], length: L, startTime: k * STEP, endTime: (k + L - 1) * STEP, timestamps: Float64Array.from({ length: L }, (_, i) => (k + i) * STEP), values: v, hasGap: false, sources: [], releases: [] });
    const burst = bursts.find((b) => k >= b.from && k < b.to)?.size ?? 0;
    const pointScores = Float32Array.from({ length: L }, () => rng() + burst);
    scores.push({ pointScores, channelContributions: new Float32Array([1]), score: pointScores[L - 1], warmup: false });
  }
  return { windows, scores };
}

function config(warmupWindows = 0): DetectConfig {
  const d = structuredClone(DEFAULTS.detect) as DetectConfig;
  d.judge = 'onset';
  d.threshold.warmupWindows = warmupWindows;
  // A small rank memory, so that the snapshot is taken after old scores were already forgotten.
  d.onsetScorer.tailRank.capacity = 120;
  d.onsetScorer.tailRank.minHistory = 20;
  d.rules = { ...d.rules, flatline: { ...d.rules.flatline, enabled: false }, silence: { ...d.rules.silence, enabled: false } };
  return d;
}
const meta = { scorer: 'diffusion', modelVersion: 'v1' };

describe('detector with the onset judge', () => {
  it('gives the onset scorer’s evidence for every window and opens one incident per excursion', () => {
    const { windows, scores } = stream();
    const cfg = config();
    const r = createDetector(cfg).update(windows, scores, meta);
    const ref = new OnsetScorer(cfg.onsetScorer);
    for (let i = 0; i < L - 1; i++) ref.observe([windows[0].values[i]]);
    const expected = windows.map((w, k) => ref.update(scores[k].pointScores, [w.values[L - 1]]));
    expect(r.scored.map((s) => s.surprise)).toEqual(expected.map((d) => d.evidence));
    expect(r.scored.map((s) => s.likelihood)).toEqual(expected.map((d) => d.score));
    const onsets = expected.flatMap((d, k) => (d.onset ? [k] : []));
    // The value jump (window 150) and the error burst (300) are the excursions.
    expect(onsets).toEqual([150, 300]);
    const opens = r.events.filter((e) => e.kind === MODEL_ALERT_KIND && e.state === 'open');
    expect(opens.map((e) => e.endTime)).toEqual(onsets.map((k) => windows[k].endTime));
    expect(r.scored[300]).toMatchObject({ detectorState: 'anomalous', isAnomaly: true, threshold: cfg.onsetScorer.gate.level });
    expect(r.scored.filter((s) => s.detectorState === 'anomalous').length).toBeLessThan(20);
  });

  it('opens nothing during its warm-up: an onset inside it is not an alert', () => {
    const { windows, scores } = stream();
    const r = createDetector(config(200)).update(windows, scores, meta);
    const opens = r.events.filter((e) => e.kind === MODEL_ALERT_KIND && e.state === 'open');
    expect(opens.map((e) => e.endTime)).toEqual([windows[300].endTime]);
    expect(r.scored.slice(0, 200).every((s) => s.detectorState === 'warmup')).toBe(true);
  });

  it('a restart from the snapshot decides exactly as an uninterrupted run, inside a hold too', () => {
    // A burst of error at 120 opens; the value jump 30 windows later is fresh evidence at the
    // level, but inside that onset's hold: no second onset, also after a restart in between.
    const { windows, scores } = stream(1, [{ from: 120, to: 125, size: 50 }, { from: 300, to: 310, size: 50 }]);
    const cfg = config(50);
    const whole = createDetector(cfg).update(windows, scores, meta);
    const opens = whole.events.filter((e) => e.state === 'open').map((e) => e.endTime);
    expect(opens).toContain(windows[120].endTime);
    expect(whole.scored[150].surprise).toBeGreaterThanOrEqual(cfg.onsetScorer.gate.level);
    expect(whole.scored[150].likelihood).toBeGreaterThan(0); // fresh …
    expect(opens).not.toContain(windows[150].endTime); // … yet no onset: within the hold of 120
    const first = createDetector(cfg);
    const a = first.update(windows.slice(0, 140), scores.slice(0, 140), meta);
    // Through JSON, as the state topic stores it.
    const saved = JSON.parse(JSON.stringify(first.snapshot('e'))) as EntityDetectorSnapshot;
    expect(saved.onset?.seen).toBe(140);
    const second = createDetector(cfg, { lookup: (id) => (id === 'e' ? saved : undefined) });
    const b = second.update(windows.slice(140), scores.slice(140), meta);
    expect([...a.scored, ...b.scored].map((s) => [s.surprise, s.detectorState])).toEqual(whole.scored.map((s) => [s.surprise, s.detectorState]));
    expect([...a.events, ...b.events].map((e) => e.eventId)).toEqual(whole.events.map((e) => e.eventId));
  });
});
