import { describe, expect, it } from 'vitest';
import type { ImputationScoring } from '../../../src/model/checkpoint.ts';
import { profileScope, validationSpansDay, withProfileScope } from '../../../src/model/profileScope.ts';

const DAY = 86_400_000;

/** W windows of L rows, `step` ms apart, each window starting one step after the last. `[W, L]` */
function windowTimes(W: number, L: number, step: number): Float64Array {
  return Float64Array.from({ length: W * L }, (_, k) => (Math.floor(k / L) + (k % L)) * step);
}

describe('validationSpansDay', () => {
  it('measures from the first window\'s newest point to the last window\'s', () => {
    const step = 300_000; // 5 minutes: 288 a day
    expect(validationSpansDay(windowTimes(289, 32, step), 289, 32)).toBe(true); // 288 steps apart
    expect(validationSpansDay(windowTimes(288, 32, step), 288, 32)).toBe(false);
    expect(validationSpansDay(new Float64Array(0), 0, 32)).toBe(false);
  });
});

const imp = (over: Partial<ImputationScoring>): ImputationScoring => ({ steps: 1, draws: 4, sigmaFloor: 0.05, targets: [true, true, false], levels: [null, null, [0, 1]], ...over });

describe('profileScope', () => {
  it('one net with the calendar: every target counts only while validation spans a day', () => {
    const solo = imp({ targets: [true], levels: [null], calendar: true });
    expect(profileScope(solo, {}, true)).toEqual([true]);
    expect(profileScope(solo, {}, false)).toEqual([false]);
    expect(profileScope(imp({ targets: [true], levels: [null] }), {}, true)).toEqual([false]); // no calendar, no command
  });

  it('one net reading a command: its targets count however short the validation', () => {
    expect(profileScope(imp({}), {}, false)).toEqual([true, true, false]);
    // A command the net does not read conditions nothing.
    expect(profileScope(imp({ reads: [true, true, false] }), {}, false)).toEqual([false, false, false]);
  });

  it('groups: maps the net\'s channel indices back through `reads`, and a group without the calendar needs a command', () => {
    // Channels: a0, unread flag, a1, cmd; the net reads a0, a1, cmd as 0, 1, 2.
    const four = imp({ targets: [true, false, true, false], levels: [null, [0, 1], null, [0, 1]], reads: [true, false, true, true], calendar: true });
    const net = { groups: [[0], [1, 2]], groupExtras: [true, false] };
    expect(profileScope(four, net, true)).toEqual([true, false, true, false]);
    expect(profileScope(four, net, false)).toEqual([false, false, true, false]);
    expect(profileScope(four, { groups: [[0], [1]], groupExtras: [false, true] }, true)).toEqual([false, false, true, false]);
  });
});

describe('withProfileScope', () => {
  const cfg = { profileSpan: 4, dispersionTest: true };
  const on = imp({ profileTest: true, profileSpan: 4, dispersionTest: true, profile: { mean: [0, 0, null], std: [1, 1, null] } });

  it('turns the tests off altogether when no channel counts, and drops the parent\'s statistics', () => {
    const off = withProfileScope(on, cfg, [false, false, false]);
    expect(off.profileTest).toBeUndefined();
    expect(off.profileSpan).toBeUndefined();
    expect(off.dispersionTest).toBeUndefined();
    expect(off.profile).toBeUndefined();
    expect(off.targets).toEqual(on.targets);
  });

  it('writes profileChannels only when a target is left out, and turns the tests back on from the config', () => {
    expect(withProfileScope(on, cfg, [true, true, false]).profileChannels).toBeUndefined();
    expect(withProfileScope(on, cfg, [true, false, false]).profileChannels).toEqual([true, false, false]);
    const back = withProfileScope(imp({}), cfg, [true, true, false]);
    expect(back).toMatchObject({ profileTest: true, profileSpan: 4, dispersionTest: true });
    expect(withProfileScope(imp({}), { profileSpan: 1, dispersionTest: false }, [true, true, false]).profileSpan).toBeUndefined();
  });
});
