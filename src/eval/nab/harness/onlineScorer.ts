/**
 * The diffusion model as the service runs it: scored in the calling thread, and fine-tuned as the
 * stream goes on (`OnlineFineTune`). After every `everyRows` rows scored, the live model is
 * fine-tuned (model/fineTune.ts) on the newest `recentRows` rows seen so far, and the new version
 * scores the rows after them: causal, as the service's periodic fine-tune, which trains on what
 * has arrived and swaps the new version in for what comes next (`fineTune.hold`). Without
 * `OnlineFineTune` the model trained on the probationary rows scores the whole file.
 *
 * Why not the service's worker-pool scorer (`modelOps/diffusionScorer.ts`): on 2 shared cores its
 * 2 workers scored about 1,500 windows/s plus ~2.4 s of start-up per file (and a checkpoint on
 * disk), against about 2,400 windows/s here; the scores are the same function of the same model.
 */
import { ModelError } from '../../../errors.ts';
import type { TrainedModel } from '../../../model/checkpoint.ts';
import { fineTune } from '../../../model/fineTune.ts';
import { scoreWindows } from '../../../model/windowScorer.ts';
import type { Scorer, Window, WindowScore } from '../../../types.ts';

export interface OnlineFineTune {
  /** Rows scored between two fine-tunes. */
  everyRows: number;
  /** The newest rows a fine-tune trains on (rows before the first window included). */
  recentRows: number;
  /** Epochs at most of each fine-tune. */
  epochs: number;
}

export interface OnlineScorer extends Scorer {
  /** The model scoring now (the last fine-tune's, or the one it started with). */
  live(): TrainedModel;
  /** Fine-tunes done so far. */
  fineTunes(): number;
  /** Frees the live model's weights (the starting model's too). */
  dispose(): void;
}

/** A scorer of `model` that fine-tunes it after every `tune.everyRows` rows; `tune` undefined: never. */
export function createOnlineScorer(model: TrainedModel, tune?: OnlineFineTune): OnlineScorer {
  const { windowLength: L, channels, version } = model.manifest;
  const C = channels.length;
  const span = L * C;
  let live = model;
  let tunes = 0;
  let sinceTune = 0;
  // Rows seen, oldest first: the first window's L rows, then each window's newest.
  const values: number[] = [];
  const timestamps: number[] = [];

  function remember(w: Window): void {
    const from = timestamps.length === 0 ? 0 : L - 1;
    for (let i = from; i < L; i++) {
      timestamps.push(w.timestamps[i]);
      for (let c = 0; c < C; c++) values.push(w.values[i * C + c]);
    }
    sinceTune++;
  }

  async function maybeFineTune(): Promise<void> {
    if (!tune || sinceTune < tune.everyRows) return;
    sinceTune = 0;
    const n = Math.min(tune.recentRows, timestamps.length);
    const from = timestamps.length - n;
    const series = { values: Float64Array.from(values.slice(from * C)), channels: [...channels], timestamps: Float64Array.from(timestamps.slice(from)) };
    const next = await fineTune(live, series, { epochs: tune.epochs });
    if (live !== model) live.dispose();
    live = next;
    tunes++;
  }

  return {
    name: 'diffusion',
    version,
    live: () => live,
    fineTunes: () => tunes,
    dispose() {
      if (live !== model) live.dispose();
      model.dispose();
    },
    async score(windows: readonly Window[]): Promise<WindowScore[]> {
      const batch = new Float32Array(windows.length * span); // [B, L, C]
      const times = new Float64Array(windows.length * L); // [B, L]
      windows.forEach((w, i) => {
        if (w.length !== L || w.channels.length !== C || w.channels.some((c, j) => c !== channels[j])) {
          throw new ModelError('MODEL_MISMATCH', `entity ${w.entityId}: window of ${w.length} points on [${w.channels.join(', ')}], the model takes ${L} points on [${channels.join(', ')}]`, { entityId: w.entityId, expected: [...channels], actual: [...w.channels] });
        }
        batch.set(w.values, i * span);
        times.set(w.timestamps, i * L);
      });
      const r = scoreWindows(live, batch, windows.length, { timestamps: times });
      windows.forEach(remember);
      // After the batch is scored: a new version scores only the windows after the rows it saw.
      await maybeFineTune();
      return windows.map((_, i) => ({
        pointScores: r.pointScores.slice(i * L, (i + 1) * L),
        channelContributions: r.channelContributions.slice(i * C, (i + 1) * C),
        score: r.windowScores[i],
        warmup: false,
      }));
    },
  };
}
