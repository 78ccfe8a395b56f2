import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import { OnsetGate, type OnsetGateConfig } from '../../../src/detect/onsetGate.ts';

const CFG: OnsetGateConfig = { holdWindows: 3, recentFactor: 1, damping: 0, level: 5 };
const run = (xs: number[], cfg: OnsetGateConfig = CFG) => {
  const g = new OnsetGate(cfg);
  return xs.map((x) => g.update(x));
};

describe('OnsetGate', () => {
  it('passes a window above the recent maximum and damps the rest of the excursion', () => {
    const out = run([1, 6, 5, 4, 7, 2]);
    expect(out.map((o) => o.score)).toEqual([1, 6, 0, 0, 7, 0]);
    expect(out.map((o) => o.fresh)).toEqual([true, true, false, false, true, false]);
  });

  it('opens one onset per excursion: a higher window within the hold is fresh but no onset', () => {
    const out = run([6, 8, 1, 1, 1, 1, 6]);
    expect(out.map((o) => o.onset)).toEqual([true, false, false, false, false, false, true]);
    // Below the level nothing is an onset, fresh or not.
    expect(run([1, 2, 3, 4]).some((o) => o.onset)).toBe(false);
  });

  it('forgets the recent maximum after holdWindows windows', () => {
    // 9 is 4 windows back when the last 2 arrives: out of a 3-window memory.
    const out = run([9, 1, 1, 1, 2]);
    expect(out[4]).toEqual({ score: 2, onset: false, fresh: true });
    // Within the memory it is damped.
    expect(run([9, 1, 1, 2])[3].score).toBe(0);
  });

  it('keeps the order of damped windows with damping > 0', () => {
    const out = run([10, 3, 7, 5], { ...CFG, damping: 0.5 });
    expect(out.map((o) => o.score)).toEqual([10, 1.5, 3.5, 2.5]);
  });

  it('needs the evidence to beat recentFactor times the recent maximum', () => {
    const out = run([4, 5, 9], { ...CFG, recentFactor: 1.5, level: 100 });
    expect(out.map((o) => o.fresh)).toEqual([true, false, true]);
  });

  it('rejects bad settings with the key', () => {
    expect(() => new OnsetGate({ ...CFG, holdWindows: -1 })).toThrow(ConfigError);
    expect(() => new OnsetGate({ ...CFG, damping: 2 })).toThrow(/damping/);
    expect(() => new OnsetGate({ ...CFG, recentFactor: 0 })).toThrow(/recentFactor/);
    expect(() => new OnsetGate(CFG).update(Number.POSITIVE_INFINITY)).toThrow(/finite/);
  });
});
