/**
 * What an entity's detector state costs in the state topic, and that the record carries it: the
 * encoded record of a single-channel entity stays within 16 kB once every history is full (for
 * each judge), a restart from the record decides as the uninterrupted detector, and a record in
 * the raw-values format written before the compact histories is read and converted.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type DetectConfig } from '../../../src/config/schema.ts';
import { createDetector, type Detector, type EntityDetectorSnapshot } from '../../../src/detect/detector.ts';
import { decodeStateRecord, encodeStateValue, type EntityState } from '../../../src/sinks/stateCodec.ts';
import { FIXTURE, fixtureConfig, stateStream } from './stateFixtures.ts';

const meta = { scorer: 'diffusion', modelVersion: 'v1' };
const src = { topic: 'diffwatch.state', partition: 0, offset: '0' };
/** Long enough that every history is full: 5,000 ranked scores, 6,400 values, SPOT's 500 peaks (about 20,000 windows). */
const LONG = 20_000;

function config(judge: 'threshold' | 'onset'): DetectConfig {
  const d = structuredClone(DEFAULTS.detect) as DetectConfig;
  d.judge = judge;
  return d;
}

function run(det: Detector, from: number, count: number, o: { bursts?: number[]; stepAt?: number } = {}) {
  const out = [];
  for (let k = from; k < from + count; k += 1_000) {
    const { windows, scores } = stateStream({ C: 1, L: 32, from: k, count: Math.min(1_000, from + count - k), seed: 1 + k, ...o });
    out.push(det.update(windows, scores, meta));
  }
  return { scored: out.flatMap((r) => r.scored), events: out.flatMap((r) => r.events) };
}

const encode = (s: EntityDetectorSnapshot) => encodeStateValue({ entityId: s.entityId, updatedAt: 1, state: s as unknown as EntityState });
const decode = (value: Buffer) => {
  const d = decodeStateRecord(Buffer.from('e'), value, src);
  if (d.kind !== 'put') throw new Error('expected a put');
  return d.record.state as unknown as EntityDetectorSnapshot;
};
const decisions = (r: ReturnType<typeof run>) => ({
  scored: r.scored.map((s) => ({ surprise: s.surprise, likelihood: s.likelihood, threshold: s.threshold, isAnomaly: s.isAnomaly, detectorState: s.detectorState })),
  events: r.events.map((e) => ({ kind: e.kind, state: e.state, endTime: e.endTime })),
});

describe.each(['threshold', 'onset'] as const)('detector state with judge %s', (judge) => {
  const det = createDetector(config(judge), { now: () => 0 });
  run(det, 0, LONG);
  const snap = det.snapshot('e')!;
  const value = encode(snap);

  it('is at most 16 kB in the state topic for a single-channel entity once every history is full', () => {
    if (judge === 'onset') {
      const scorer = snap.onset!.scorer;
      expect(Buffer.from(scorer.rank.codes!, 'base64').length).toBe(2 * DEFAULTS.detect.onsetScorer.tailRank.capacity);
      expect(scorer.level.history!.blocks[0].length).toBeGreaterThan(0);
      expect(Buffer.from(scorer.level.history!.blocks[0], 'base64').length).toBe(16 * 100);
    } else {
      expect(snap.threshold.spot!.excesses).toHaveLength(DEFAULTS.detect.threshold.maxPeaks);
    }
    expect(value.length).toBeLessThanOrEqual(16_384);
  });

  it('round-trips: a detector restored from the encoded record decides the next windows as the uninterrupted one', () => {
    const restored = createDetector(config(judge), { now: () => 0, lookup: () => decode(value) });
    const next = { bursts: [LONG + 300], stepAt: LONG + 600 };
    const a = decisions(run(det, LONG, 1_000, next));
    const b = decisions(run(restored, LONG, 1_000, next));
    expect(b).toEqual(a);
    expect(a.scored.some((s) => s.isAnomaly)).toBe(true);
  });
});

describe('a saved state in the raw-values format (before the compact histories)', () => {
  const value = readFileSync(new URL('./fixtures/onsetState.v1.value.json', import.meta.url));
  const expected = JSON.parse(readFileSync(new URL('./fixtures/onsetState.v1.next.json', import.meta.url), 'utf8')) as { next: { surprise: number[]; anomalous: number[]; warmup: number }; opens: { kind: string; endTime: number }[] };
  const next = stateStream({ C: FIXTURE.C, L: FIXTURE.L, from: 0, count: FIXTURE.before + FIXTURE.next, seed: FIXTURE.seed, bursts: FIXTURE.bursts, stepAt: FIXTURE.stepAt });
  const judgeNext = () => {
    const det = createDetector(fixtureConfig(), { now: () => 0, lookup: () => decode(value) });
    return { det, r: det.update(next.windows.slice(FIXTURE.before), next.scores.slice(FIXTURE.before), meta) };
  };

  it('is read and converted: the next windows get the decisions the detector that wrote it made', () => {
    expect(JSON.parse(value.toString()).state.onset.scorer.rank.scores).toBeTypeOf('string');
    const { r } = judgeNext();
    expect(r.scored.flatMap((s, i) => (s.isAnomaly ? [i] : []))).toEqual(expected.next.anomalous);
    expect(r.events.filter((e) => e.state === 'open').map((e) => ({ kind: e.kind, endTime: e.endTime }))).toEqual(expected.opens);
    // The evidence moves only where the rank counts past scores within 0.06 % below the new one as
    // ties (as at least as large): never up, and here in 80 of the 600 windows, by 0.18 digits at most.
    const diffs = r.scored.map((s, i) => s.surprise! - expected.next.surprise[i]);
    expect(Math.max(...diffs)).toBeLessThanOrEqual(1e-12);
    expect(Math.min(...diffs)).toBeGreaterThan(-0.2);
    expect(diffs.filter((d) => d < -1e-12).length).toBeLessThan(FIXTURE.next / 5);
  });

  it('is written back in the compact format, a fraction of the size', () => {
    const { det } = judgeNext();
    const again = encode(det.snapshot('e')!);
    expect(again.length).toBeLessThan(value.length / 2);
    expect(decode(again).onset!.scorer.rank.scores).toBeUndefined();
  });
});
