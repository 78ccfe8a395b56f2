import { describe, expect, it } from 'vitest';
import type { ImputationScoring } from '../../../src/model/checkpoint.ts';
import { centredDispersionScope, fitSpansWeek, profileScope, withProfileScope } from '../../../src/model/profileScope.ts';

const DAY = 86_400_000;

describe('fitSpansWeek', () => {
  it('asks for seven days of rows: 2,016 five-minute rows do, 2,015 do not', () => {
    const step = 300_000;
    expect(fitSpansWeek(0, 2015 * step, 2016)).toBe(true);
    expect(fitSpansWeek(0, 2014 * step, 2015)).toBe(false);
    expect(fitSpansWeek(0, 0, 1)).toBe(false);
  });
});

const imp = (over: Partial<ImputationScoring>): ImputationScoring => ({ steps: 1, draws: 4, sigmaFloor: 0.05, targets: [true, true, false], levels: [null, null, [0, 1]], ...over });

describe('profileScope', () => {
  it('one net with the calendar: every target counts only when the fit spans a week', () => {
    const solo = imp({ targets: [true], levels: [null], calendar: true });
    expect(profileScope(solo, {}, true)).toEqual([true]);
    expect(profileScope(solo, {}, false)).toEqual([false]);
  });

  it('one net that reads neither the calendar nor a command keeps its range test', () => {
    expect(profileScope(imp({ targets: [true], levels: [null] }), {}, false)).toEqual([true]);
  });

  it('one net reading a command: its targets count however short the fit', () => {
    expect(profileScope(imp({ calendar: true }), {}, false)).toEqual([true, true, false]);
  });

  it('groups: maps the net\'s channel indices back through `reads`; a group with neither condition is left out', () => {
    // Channels: a0, unread flag, a1, cmd; the net reads a0, a1, cmd as 0, 1, 2.
    const four = imp({ targets: [true, false, true, false], levels: [null, [0, 1], null, [0, 1]], reads: [true, false, true, true], calendar: true });
    const net = { groups: [[0], [1, 2]], groupExtras: [true, false] };
    expect(profileScope(four, net, true)).toEqual([true, false, true, false]);
    expect(profileScope(four, net, false)).toEqual([false, false, true, false]);
    // The unread flag conditions nothing: a1's group reads the calendar only, a0's nothing.
    const noCmd = imp({ targets: [true, false, true], levels: [null, [0, 1], null], reads: [true, false, true], calendar: true });
    expect(profileScope(noCmd, { groups: [[0], [1]], groupExtras: [false, true] }, true)).toEqual([false, false, true]);
  });
});

describe('centredDispersionScope', () => {
  it('the targets of a net read by the calendar and no command, on a fit shorter than a week only', () => {
    const solo = imp({ targets: [true], levels: [null], calendar: true });
    expect(centredDispersionScope(solo, {}, false)).toEqual([true]);
    expect(centredDispersionScope(solo, {}, true)).toEqual([false]);
    expect(centredDispersionScope(imp({ targets: [true], levels: [null] }), {}, false)).toEqual([false]);
    expect(centredDispersionScope(imp({ calendar: true }), {}, false)).toEqual([false, false, false]);
  });

  it('groups: only the groups that read the calendar and no command', () => {
    const four = imp({ targets: [true, false, true, false], levels: [null, [0, 1], null, [0, 1]], reads: [true, false, true, true], calendar: true });
    expect(centredDispersionScope(four, { groups: [[0], [1, 2]], groupExtras: [true, true] }, false)).toEqual([true, false, false, false]);
    expect(centredDispersionScope(four, { groups: [[0], [1, 2]], groupExtras: [false, true] }, false)).toEqual([false, false, false, false]);
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

  it('keeps the draws and the dispersion test for channels that have only the centred one, and marks them', () => {
    const scoped = withProfileScope(on, cfg, [false, false, false], [true, false, false]);
    expect(scoped).toMatchObject({ profileTest: true, dispersionTest: true, profileChannels: [false, false, false], centredDispersionChannels: [true, false, false] });
    // A channel that keeps both tests is not centred; without the dispersion test nothing is kept for it.
    expect(withProfileScope(on, cfg, [true, false, false], [true, true, false]).centredDispersionChannels).toEqual([false, true, false]);
    expect(withProfileScope(on, { profileSpan: 4, dispersionTest: false }, [false, false, false], [true, false, false]).profileTest).toBeUndefined();
    expect(withProfileScope(on, cfg, [true, true, false], [false, false, false]).centredDispersionChannels).toBeUndefined();
  });
});
