import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { createNoopScorer } from '../../../src/model/noopScorer.ts';
import type { Window } from '../../../src/types.ts';

const window = (entityId: string, L: number, channels: string[]): Window =>
  ({ entityId, length: L, channels, values: Float64Array.from({ length: L * channels.length }, (_, i) => i * 7.5), timestamps: Float64Array.from({ length: L }, (_, i) => i), endTime: L - 1 }) as unknown as Window;

describe('noop scorer', () => {
  it('scores every window 0 in the shapes of the window, out of warm-up', async () => {
    const scores = await createNoopScorer().score([window('a', 8, ['x', 'y']), window('b', 3, ['z'])]);
    expect(scores).toHaveLength(2);
    expect(Array.from(scores[0].pointScores)).toEqual(new Array(8).fill(0));
    expect(Array.from(scores[0].channelContributions)).toEqual([0, 0]);
    expect(scores[1].pointScores).toHaveLength(3);
    expect(scores[1].channelContributions).toHaveLength(1);
    expect(scores.every((s) => s.score === 0 && !s.warmup)).toBe(true);
  });

  it('is selectable in the config as scorer.kind noop', () => {
    expect(loadConfig({ overrides: { scorer: { kind: 'noop' } }, env: {} }).scorer.kind).toBe('noop');
  });
});
