import { describe, expect, it } from 'vitest';
import { ConfigError, DiffwatchError } from '../../../src/errors.ts';
import { createThresholdState, ThresholdState, type WindowDecision } from '../../../src/detect/thresholdState.ts';
import { mulberry32 } from '../../../src/random.ts';

/** |N(0, 1)| from a seeded mulberry32: a stand-in for robust-z window scores. */
function halfNormal(seed: number): () => number {
  const u = mulberry32(seed);
  return () => Math.abs(Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()));
}

describe('hysteresis (fixed method)', () => {
  it('opens above the open level and stays open while above the keep level', () => {
    const state = createThresholdState({ method: 'fixed', fixedThreshold: 5, keepFraction: 0.5, warmupWindows: 0 });
    const scores = [1, 6, 4, 3, 2, 6, 5, 1];
    const got = scores.map((s) => state.update(s));
    expect(got.map((d) => d.state)).toEqual(['normal', 'anomalous', 'anomalous', 'anomalous', 'normal', 'anomalous', 'anomalous', 'normal']);
    expect(got.map((d) => d.triggered)).toEqual([false, true, false, false, false, true, false, false]);
    expect(got[2]).toMatchObject({ threshold: 5, keepLevel: 2.5, isOpen: true, rawScore: 4 });
  });

  it('without a keep fraction, a fixed threshold closes as soon as a score is not above it', () => {
    const state = createThresholdState({ method: 'fixed', fixedThreshold: 5, warmupWindows: 0 });
    expect([6, 5.5, 4.9].map((s) => state.update(s).isOpen)).toEqual([true, true, false]);
  });
});

describe('warm-up', () => {
  it('reports warmup, never opens, until warmupWindows windows and the SPOT calibration are done', () => {
    const state = createThresholdState({ method: 'spot', warmupWindows: 1500, nInit: 1000 });
    const draw = halfNormal(1);
    for (let i = 0; i < 1000; i++) {
      const d = state.update(draw());
      expect(d).toMatchObject({ state: 'warmup', threshold: null, keepLevel: null, isOpen: false, triggered: false });
    }
    for (let i = 1000; i < 1500; i++) {
      const d = state.update(i % 100 === 0 ? 50 : draw());
      expect(d.state).toBe('warmup');
      expect(d.threshold).toBeGreaterThan(2);
      expect(d.threshold).toBeLessThan(50);
      expect(d.isOpen).toBe(false);
    }
    expect(state.update(50)).toMatchObject({ state: 'anomalous', triggered: true, isOpen: true });
  });

  it('waits for the DSPOT moving-average window and calibration even with warmupWindows 0', () => {
    const state = createThresholdState({ method: 'dspot', warmupWindows: 0, nInit: 500, depth: 40 });
    const draw = halfNormal(2);
    const states = Array.from({ length: 541 }, () => state.update(draw()).state);
    expect(states.slice(0, 540).every((s) => s === 'warmup')).toBe(true);
    expect(states[540]).not.toBe('warmup');
  });
});

describe('SPOT levels', () => {
  it("keeps an incident open between SPOT's t and z_q, and closes it below t", () => {
    const state = createThresholdState({ method: 'spot', warmupWindows: 0, nInit: 2000 });
    const draw = halfNormal(3);
    let d: WindowDecision = state.update(draw());
    for (let i = 0; i < 5000; i++) d = state.update(draw());
    const open = d.threshold!;
    const keep = d.keepLevel!;
    expect(keep).toBeGreaterThan(1.5); // t: the 98 % quantile of |N(0, 1)| is 2.33
    expect(keep).toBeLessThan(open);
    expect(state.update(open + 1).state).toBe('anomalous');
    expect(state.update((keep + open) / 2).state).toBe('anomalous');
    expect(state.update(keep / 2).state).toBe('normal');
    expect(state.update((keep + open) / 2).state).toBe('normal'); // between the levels does not open
  });

  it('alarms on i.i.d. noise at about the risk q', () => {
    const q = 1e-3;
    const state = createThresholdState({ method: 'spot', q, warmupWindows: 0, nInit: 2000 });
    const draw = halfNormal(4);
    let triggered = 0;
    for (let i = 0; i < 52_000; i++) if (state.update(draw()).triggered) triggered++;
    expect(triggered).toBeGreaterThan(25); // 50 expected over 50,000 windows
    expect(triggered).toBeLessThan(100);
  });
});

describe('a fresh state for a new model version', () => {
  /** A SPOT state that has learned |N(0, 1)| scores, then opened an incident on a score of 20. */
  function openIncident(): ThresholdState {
    const state = createThresholdState({ method: 'spot', warmupWindows: 0, nInit: 1000 });
    const draw = halfNormal(6);
    for (let i = 0; i < 2000; i++) state.update(draw());
    expect(state.update(20)).toMatchObject({ state: 'anomalous', triggered: true });
    return state;
  }

  it('carries the open incident at the previous levels until it closes, opens nothing while it warms up, then judges by its own levels', () => {
    const previous = openIncident();
    const open = previous.currentThreshold();
    const keep = previous.update(10).keepLevel!; // still open
    const next = createThresholdState({ method: 'spot', nInit: 300, warmupWindows: 300 }).carryOpenIncident(previous);
    expect(next.snapshot().seen).toBe(0);
    // Above the carried keep level: still open, at the previous levels, and no trigger.
    expect(next.update(keep + 1)).toMatchObject({ state: 'anomalous', isOpen: true, triggered: false, carried: true, threshold: open, keepLevel: keep });
    // Below it: closed; the levels stay the carried ones (the incident's lifecycle counts its quiet windows against them).
    expect(next.update(keep / 2)).toMatchObject({ state: 'warmup', isOpen: false, carried: true, keepLevel: keep });
    // Nothing reopens during the warm-up, even far above the carried open level.
    expect(next.update(2 * open)).toMatchObject({ state: 'warmup', isOpen: false, triggered: false, carried: true });
    const draw = halfNormal(7);
    let d: WindowDecision = next.update(draw());
    while (next.snapshot().seen < 300) d = next.update(draw());
    expect(d.state).toBe('warmup');
    // Warm: its own levels, learned from its own scores only, and nothing carried.
    d = next.update(draw());
    expect(d).toMatchObject({ state: 'normal', carried: false });
    expect(d.threshold).not.toBe(open);
    expect(next.update(100)).toMatchObject({ state: 'anomalous', triggered: true, carried: false });
  });

  it('carries nothing when no incident was open at the swap', () => {
    const previous = openIncident();
    previous.update(0); // closed
    const next = createThresholdState({ method: 'spot', nInit: 300, warmupWindows: 300 }).carryOpenIncident(previous);
    expect(next.update(50)).toMatchObject({ state: 'warmup', isOpen: false, threshold: null, keepLevel: null, carried: false });
  });

  it('keeps the carried levels through a snapshot; a snapshot written without them restores with none', () => {
    const next = createThresholdState({ method: 'spot', warmupWindows: 50, nInit: 50 }).carryOpenIncident(openIncident());
    const restored = ThresholdState.restore(JSON.stringify(next.snapshot()));
    expect(restored.update(15)).toEqual(next.update(15));
    const { carried: _, ...older } = next.snapshot();
    expect(ThresholdState.restore(older).update(15)).toMatchObject({ carried: false, state: 'warmup' });
  });
});

describe('snapshot and restore', () => {
  it.each(['spot', 'dspot', 'fixed'] as const)('%s: the restored state makes identical decisions', (method) => {
    for (const cut of [300, 4000]) {
      const a = createThresholdState({ method, nInit: 1000, warmupWindows: 500, keepFraction: method === 'fixed' ? 0.5 : null, fixedThreshold: 3 });
      const draw = halfNormal(5);
      for (let i = 0; i < cut; i++) a.update(draw());
      const b = ThresholdState.restore(JSON.stringify(a.snapshot()));
      for (let i = 0; i < 4000; i++) {
        const x = draw() + (i % 700 < 15 ? 6 : 0); // recurring incidents
        expect(b.update(x)).toEqual(a.update(x));
      }
      expect(JSON.stringify(b.snapshot())).toBe(JSON.stringify(a.snapshot()));
    }
  });

  it('rejects an unknown snapshot version', () => {
    const snap = { ...createThresholdState().snapshot(), version: 2 };
    expect(() => ThresholdState.restore(JSON.stringify(snap))).toThrow(DiffwatchError);
  });
});

describe('input and config checks', () => {
  it('refuses a non-finite score with a typed error', () => {
    const state = createThresholdState();
    expect(() => state.update(Number.NaN)).toThrow(expect.objectContaining({ code: 'SCORE_NOT_FINITE' }));
  });

  it('names the key of a bad value', () => {
    expect(() => createThresholdState({ keepFraction: 1.5 })).toThrow(ConfigError);
    expect(() => createThresholdState({ keepFraction: 1.5 })).toThrow(/detect\.keepFraction/);
    expect(() => createThresholdState({ method: 'dspot', depth: 0 })).toThrow(/detect\.depth/);
    expect(() => createThresholdState({ q: 0.5 })).toThrow(/detect\.q/);
  });
});
