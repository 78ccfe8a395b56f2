/**
 * The one-line reference: how far the newest value of each analogue channel lies from that
 * channel's training median, in training standard deviations, and the largest of these.
 *
 *   score = max over analogue c of |x[c] − median_train[c]| / max(std_train[c], floor[c])
 *
 * It knows the training range and nothing else: no phase, no shape, no relation between
 * channels. Any model worth its training time must beat it on the anomalies that stay inside
 * the range. Channel kinds come from `model/channelKinds.ts`; flags and constants are left out
 * because a flag's distance from its median is a normal state, not evidence. A series with no
 * analogue channel falls back to every channel, so the detector never scores nothing.
 *
 * @example
 *   const fd = await oneLineDetector().open(ctx);  // fits medians and stds on ctx.training
 *   const [s] = await fd.scorer.score([window]);    // s.score: the largest distance of the newest row
 */
import { channelKinds, channelsOfKind } from '../../../model/channelKinds.ts';
import type { Scorer, Window, WindowScore } from '../../../types.ts';
import { boundedScore } from './boundedScore.ts';
import type { FileContext, FileDetector, NabDetector } from './types.ts';

export interface OneLineDetectorOptions {
  /** Default `oneLine`. */
  name?: string;
  /** Points per window L. Default 1: the score reads the newest row only. */
  windowLength?: number;
  /** Std floor relative to max(range, |median|, 1), so a constant channel cannot divide by 0. Default 1e-9. */
  relStdFloor?: number;
  /** NAB only: the fixed alert level on the distance, in stds. Default 4. */
  alertSigmas?: number;
}

/** Per-channel training statistics of the channels that are scored. */
export interface OneLineFit {
  channels: number[];
  median: number[];
  std: number[];
}

export function oneLineDetector(opts: OneLineDetectorOptions = {}): NabDetector {
  const name = opts.name ?? 'oneLine';
  const windowLength = opts.windowLength ?? 1;
  const relStdFloor = opts.relStdFloor ?? 1e-9;
  const alertSigmas = opts.alertSigmas ?? 4;
  return {
    name,
    summary: 'max over analogue channels of |newest − training median| / training std (a one-line reference)',
    windowLength,
    params: { windowLength, relStdFloor, alertSigmas, channels: 'analogue (channelKinds), else all', anomalyScore: 'z/(1+z)' },
    async open(ctx: FileContext): Promise<FileDetector> {
      const fit = fitOneLine(ctx.training.values, ctx.training.channels.length, relStdFloor);
      const scorer = oneLineScorer(fit);
      // An alert opens where the distance crosses alertSigmas from below: one onset per excursion.
      let above = false;
      return {
        scorer,
        judge: (_w, s) => {
          const onset = s.score >= alertSigmas && !above;
          above = s.score >= alertSigmas;
          return { anomalyScore: boundedScore(s.score), alertOnset: onset };
        },
        alertThreshold: boundedScore(alertSigmas),
        close: async () => {},
      };
    },
  };
}

/** Medians and stds of the analogue channels of row-major `[N, C]` training values. */
export function fitOneLine(values: Float64Array, C: number, relStdFloor: number): OneLineFit {
  const kinds = channelKinds(values, C);
  const analogue = channelsOfKind(kinds, 'analogue');
  const channels = analogue.length > 0 ? analogue : kinds.map((_, c) => c);
  const fit: OneLineFit = { channels, median: [], std: [] };
  for (const c of channels) {
    const col = Float64Array.from({ length: values.length / C }, (_, i) => values[i * C + c]).sort(); // [N]
    const n = col.length;
    const median = n % 2 === 1 ? col[(n - 1) / 2] : (col[n / 2 - 1] + col[n / 2]) / 2;
    const mean = col.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    const floor = relStdFloor * Math.max(col[n - 1] - col[0], Math.abs(median), 1);
    fit.median.push(median);
    fit.std.push(Math.max(std, floor));
  }
  return fit;
}

function oneLineScorer(fit: OneLineFit): Scorer {
  const scoreOne = (w: Window): WindowScore => {
    const C = w.channels.length;
    const L = w.length;
    const pointScores = new Float32Array(L);
    const newest = new Float32Array(C);
    for (let i = 0; i < L; i++) {
      let max = 0;
      fit.channels.forEach((c, k) => {
        const z = Math.abs(w.values[i * C + c] - fit.median[k]) / fit.std[k]; // [L, C]
        if (z > max) max = z;
        if (i === L - 1) newest[c] = z;
      });
      pointScores[i] = max;
    }
    const total = newest.reduce((a, b) => a + b, 0);
    return { pointScores, channelContributions: newest.map((z) => (total > 0 ? z / total : 0)), score: pointScores[L - 1], warmup: false };
  };
  return { name: 'oneLine', version: 'oneLine-v1', score: async (windows) => windows.map(scoreOne) };
}
