/** Replaying a series through the service's stream operators: causality, row mapping, late rows. */
import { firstValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { DETECTORS, replaySource, scoreReplay, type FileContext, type NabDetector } from '../../../../../src/eval/nab/harness/index.ts';
import type { CsvSeries } from '../../../../../src/ingest/csvSeries.ts';
import { series, STEP_MS, T0, wave } from './helpers.ts';

// Training rows for the detectors that fit on them (oneLine); the others ignore them.
const fitRows = wave(300, 11);
const ctx = { path: 'x/y.csv', rows: 0, probationaryRows: 300, training: { channels: ['value'], timestamps: Float64Array.from(fitRows, (_, i) => T0 + i * STEP_MS), values: Float64Array.from(fitRows) }, seed: 0 } as FileContext;

async function replay(detector: NabDetector, s: CsvSeries, microBatchSize?: number) {
  return scoreReplay(s, await detector.open(ctx), { entityId: 'x/y.csv', windowLength: detector.windowLength, microBatchSize });
}

describe('replaySource', () => {
  it('emits one reading per row with the row index as the offset of synthetic coordinates', async () => {
    const readings = await firstValueFrom(replaySource(series([1, 2, 3]), { entityId: 'e' }).pipe(toArray()));
    expect(readings).toEqual([0, 1, 2].map((i) => ({ entityId: 'e', timestamp: T0 + i * STEP_MS, values: { value: i + 1 }, source: { topic: 'nab-replay', partition: 0, offset: String(i) } })));
  });
});

describe('scoreReplay', () => {
  // The diffusion detector needs training rows that this tiny series lacks; its own test file
  // checks its causality with a real training run.
  for (const name of Object.keys(DETECTORS).filter((n) => n !== 'diffusion')) {
    it(`${name}: the score at row t depends on rows <= t only`, async () => {
      const detector = DETECTORS[name]();
      // Long enough for the calibrated baseline's alert levels (SPOT calibrates on 1,000 windows).
      const base = wave(2000, 11);
      const cut = 1500;
      // Rewrite the future: spikes from row `cut` on.
      const changed = base.map((v, i) => (i >= cut && i % 37 === 0 ? v + 300 : v));
      const a = await replay(detector, series(base));
      const b = await replay(detector, series(changed), 7); // another batching, too
      expect(Array.from(b.scores.subarray(0, cut))).toEqual(Array.from(a.scores.subarray(0, cut)));
      expect(Array.from(b.alertOnsets.subarray(0, cut))).toEqual(Array.from(a.alertOnsets.subarray(0, cut)));
      // The perturbation is visible from row `cut` on, so the equality above is not vacuous.
      const spike = Math.ceil(cut / 37) * 37;
      expect(b.scores[spike]).toBeGreaterThan(a.scores[spike]);
      expect(b.alertOnsets.subarray(cut).some((x) => x === 1)).toBe(true);
    });
  }

  it('gives each row the score of the window ending at it, 0 before the first full window', async () => {
    // Uncalibrated, so that the peak is not smoothed by the likelihood's short-term mean.
    const detector = DETECTORS.baselineRaw();
    const values = wave(600, 5);
    values[400] = 500;
    const r = await replay(detector, series(values));
    const L = detector.windowLength;
    expect(r.windows).toBe(600 - L + 1);
    expect(Array.from(r.scores.subarray(0, L - 1)).every((s) => s === 0)).toBe(true);
    let top = 0;
    for (let i = 1; i < r.scores.length; i++) if (r.scores[i] > r.scores[top]) top = i;
    expect(top).toBe(400);
    expect(r.alertOnsets[400]).toBe(1);
    expect(r.scores[400]).toBeLessThan(1);
  });

  it('drops rows whose timestamp goes back, as the service would, and keeps the rest aligned', async () => {
    const detector = DETECTORS.windowedGaussian();
    const values = wave(300, 2);
    const times = values.map((_, i) => T0 + i * STEP_MS);
    // Rows 200..202 repeat earlier times (a clock jump back), as in NAB's machine_temperature file.
    for (let i = 200; i <= 202; i++) times[i] = T0 + (i - 50) * STEP_MS;
    values[250] = 400;
    const r = await replay(detector, series(values, times));
    expect(r.lateRows).toEqual([200, 201, 202]);
    expect([r.scores[200], r.scores[201], r.scores[202]]).toEqual([0, 0, 0]);
    expect(r.windows).toBe(297);
    // Past the first rows (where NAB's fit is one point with a floored std), the spike ranks first.
    const later = r.scores.subarray(100);
    expect(100 + later.indexOf(Math.max(...later))).toBe(250);
  });
});
