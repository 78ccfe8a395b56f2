import { describe, expect, it } from 'vitest';
import { createAlertLifecycle } from '../../../../src/detect/alertLifecycle.ts';
import { createFlatline, createOutOfRange, createSilence, FLATLINE_KIND, OUT_OF_RANGE_KIND, RULES_VERSION, ruleInput, SILENCE_KIND } from '../../../../src/detect/rules/index.ts';
import { alertId } from '../../../../src/sinks/alertId.ts';

const CHANNELS = ['rpm', 'temp'];
const at = (kind: string, endTime: number) => ({ entityId: 'pump-7', kind, endTime, channels: CHANNELS });

describe('rules through the alert lifecycle', () => {
  it('turns a stuck sensor into one flatline incident that blames it and resolves when it moves', () => {
    const lc = createAlertLifecycle({ resolveAfterWindows: 2 });
    const flat = createFlatline({ minPoints: 4, epsilon: 0 }, CHANNELS);
    const temps = [20, 21, 22, 22, 22, 22, 22, 22, 23, 24, 25];
    const events = temps.flatMap((t, k) => lc.update(ruleInput(flat.update([1000 + k, t]), at(FLATLINE_KIND, 1000 * k))));
    expect(events.map((e) => [e.state, e.endTime, e.severity])).toEqual([
      ['open', 5000, 'info'],
      ['resolved', 9000, 'warning'], // stuck for 6 points = 1.5 × minPoints
    ]);
    expect(events[0].alertId).toBe(alertId('pump-7', FLATLINE_KIND, 5000, RULES_VERSION));
    expect(events[0].contributions).toEqual([{ channel: 'temp', share: 1 }]);
    expect(events[0].detail).toEqual({ channel: 'temp', value: 22, points: 4 });
  });

  it('reports an out-of-range channel and value', () => {
    const lc = createAlertLifecycle();
    const oor = createOutOfRange({ temp: { max: 90 } }, CHANNELS);
    const [open] = lc.update(ruleInput(oor.update([1000, 200]), at(OUT_OF_RANGE_KIND, 1000)));
    expect(open).toMatchObject({ state: 'open', kind: 'out_of_range', severity: 'critical', contributions: [{ channel: 'temp', share: 1 }], detail: { channel: 'temp', value: 200, max: 90 } });
  });

  it('keeps one silence incident from the periodic check until data returns', () => {
    const lc = createAlertLifecycle({ resolveAfterWindows: 1 });
    const s = createSilence({ minSteps: 3, stepMs: 1000 }, 2);
    const point = (t: number) => lc.update(ruleInput(s.update(t, [1, 2]), at(SILENCE_KIND, t)));
    const check = (t: number) => lc.update(ruleInput(s.checkSilence(t), at(SILENCE_KIND, t)));
    const events = [...point(0), ...point(1000), ...check(2500), ...check(4000), ...check(6000), ...point(7000), ...point(8000)];
    expect(events.map((e) => [e.state, e.endTime, e.contributions])).toEqual([
      ['open', 4000, []],
      ['resolved', 8000, []],
    ]);
    expect(events[0].detail).toMatchObject({ reason: 'no_data', silentMs: 3000 });
  });
});
