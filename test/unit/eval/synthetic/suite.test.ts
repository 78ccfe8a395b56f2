/**
 * The suite end to end, through the service's stream operators: the metric plumbing (an oracle
 * earns 1.0), chance (random evidence earns about 0.5 on every type), and two real properties of
 * the data seen through the one-line reference: contextual spikes are invisible to a detector
 * that knows only the range, and a level shift that leaves the range is not.
 */
import { describe, expect, it } from 'vitest';
import { oneLineDetector } from '../../../../src/eval/nab/harness/oneLineDetector.ts';
import { LAYOUTS, runSuite, SYNTHETIC_DEFAULTS, typesOf, type SuiteResult } from '../../../../src/eval/synthetic/index.ts';
import { oracleDetector, randomDetector } from './controls.ts';

const SEED = 0;
const CASES = 3;
const started = performance.now();
const suite = runSuite({ seed: SEED, detectors: [oneLineDetector(), randomDetector(), oracleDetector(SEED, SYNTHETIC_DEFAULTS)], layouts: LAYOUTS, casesPerType: CASES });
const summaryOf = (r: SuiteResult, layout: string, type: string, detector: string) => r.summary[layout][type][detector];

describe('synthetic suite', () => {
  it('runs every type of both layouts, each case through the stream, in a few seconds', async () => {
    const r = await suite;
    for (const layout of LAYOUTS) expect(Object.keys(r.summary[layout])).toEqual(typesOf(layout));
    expect(r.cases).toHaveLength(LAYOUTS.reduce((n, l) => n + typesOf(l).length, 0) * CASES * 3);
    expect(r.seed).toBe(SEED);
    expect(performance.now() - started).toBeLessThan(60_000);
  }, 60_000);

  it('oracle: AUC and AUC-PR 1, every segment detected at once, no false alarm', async () => {
    const r = await suite;
    for (const layout of LAYOUTS) {
      for (const type of typesOf(layout)) {
        const s = summaryOf(r, layout, type, 'oracle');
        expect(s.auc, `${layout}/${type}`).toBe(1);
        expect(s.averagePrecision).toBe(1);
        expect(s.detected).toBe(s.segments);
        expect(s.medianDelay).toBe(0);
        expect(s.falseAlarmRate).toBe(0);
      }
    }
  });

  it('random evidence: AUC between 0.35 and 0.65 on every type', async () => {
    const r = await suite;
    for (const layout of LAYOUTS) {
      for (const type of typesOf(layout)) expect(summaryOf(r, layout, type, 'random').auc, `${layout}/${type}`).toBeGreaterThan(0.35);
      for (const type of typesOf(layout)) expect(summaryOf(r, layout, type, 'random').auc, `${layout}/${type}`).toBeLessThan(0.65);
    }
  });

  it('oneLine: contextual spikes, inside the range, score no better than chance', async () => {
    const r = await suite;
    for (const type of ['spike3', 'spike4', 'spike5']) expect(summaryOf(r, 'univariate', type, 'oneLine').auc, type).toBeLessThan(0.5);
  });

  it('oneLine: a level shift that leaves the range scores at least 0.95; the in-range 5σ one does not', async () => {
    const big = await runSuite({ seed: SEED, detectors: [oneLineDetector()], layouts: LAYOUTS, types: ['levelShift'], casesPerType: CASES, knobs: { levelShift: 25 } });
    const r = await suite;
    for (const layout of LAYOUTS) {
      expect(summaryOf(big, layout, 'levelShift', 'oneLine').auc, layout).toBeGreaterThanOrEqual(0.95);
      expect(summaryOf(r, layout, 'levelShift', 'oneLine').auc, layout).toBeLessThan(0.95);
    }
  });
});
