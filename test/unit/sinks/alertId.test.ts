import { describe, expect, it } from 'vitest';
import { alertId, eventId, ID_HEX_LENGTH } from '../../../src/sinks/alertId.ts';

const base = ['pump-7', 'score', 1_700_000_000_000, 'baseline@1'] as const;

describe('alertId', () => {
  it('is stable: the same inputs give the recorded id', () => {
    // Recorded once; a change here means every consumer's dedup keys change after an upgrade.
    expect(alertId(...base)).toBe('2b58eeb8a60dc69e2cd0941e87851e94');
    expect(alertId(...base)).toMatch(new RegExp(`^[0-9a-f]{${ID_HEX_LENGTH}}$`));
  });

  it('differs when any input differs', () => {
    const ids = new Set([
      alertId(...base),
      alertId('pump-8', 'score', 1_700_000_000_000, 'baseline@1'),
      alertId('pump-7', 'drift', 1_700_000_000_000, 'baseline@1'),
      alertId('pump-7', 'score', 1_700_000_000_001, 'baseline@1'),
      alertId('pump-7', 'score', 1_700_000_000_000, 'baseline@2'),
    ]);
    expect(ids.size).toBe(5);
  });

  it('is unambiguous: moving a separator between fields changes the id', () => {
    expect(alertId('a|b', 'c', 1, 'v')).not.toBe(alertId('a', 'b|c', 1, 'v'));
    expect(alertId('a","b', 'c', 1, 'v')).not.toBe(alertId('a', 'b","c', 1, 'v'));
    expect(alertId('a', 'b', 1, '')).not.toBe(alertId('a', '', 1, 'b'));
  });

  it('refuses a non-integer time, which would collide after encoding', () => {
    expect(() => alertId('a', 'b', Number.NaN, 'v')).toThrow(expect.objectContaining({ code: 'ALERT_ID_INVALID' }));
    expect(() => eventId('x', 'open', Number.POSITIVE_INFINITY)).toThrow(/endTime/);
  });
});

describe('eventId', () => {
  const a = alertId(...base);

  it('is stable and distinct per state and end time', () => {
    expect(eventId(a, 'open', 1_700_000_060_000)).toBe('a687cb479c768c350bb4f8618d30f4f1');
    const ids = new Set([
      eventId(a, 'open', 1_700_000_060_000),
      eventId(a, 'resolved', 1_700_000_060_000),
      eventId(a, 'open', 1_700_000_060_001),
      eventId(alertId('pump-8', 'score', 1_700_000_000_000, 'baseline@1'), 'open', 1_700_000_060_000),
    ]);
    expect(ids.size).toBe(4);
  });

  it('never equals an alert id built from the same strings', () => {
    expect(eventId('pump-7', 'score', 1_700_000_000_000)).not.toBe(alertId('pump-7', 'score', 1_700_000_000_000, ''));
  });
});
