/**
 * Scores one series through the service's stream operators:
 *
 *   replaySource ─readings─▶ windowsByEntity ─▶ batchWhileBusy ─▶ scorer ─▶ anomalyScore, alert
 *
 * Row t's score is that of the window whose newest row is t, so it depends on rows ≤ t only.
 * Rows with no window of their own get 0: the first L-1 rows (inside NAB's probationary period
 * for every NAB file when L ≤ 169) and rows the stream drops as late (a timestamp older than
 * the row before, which the service would dead-letter).
 */
import { lastValueFrom } from 'rxjs';
import { DEFAULTS, type StreamConfig } from '../../../config/schema.ts';
import type { CsvSeries } from '../../../ingest/csvSeries.ts';
import { batchWhileBusy, windowsByEntity } from '../../../stream/index.ts';
import type { Window } from '../../../types.ts';
import { replaySource, rowOfOffset } from './replaySource.ts';
import type { FileDetector } from './types.ts';

export interface ReplayScores {
  /** NAB `anomaly_score` per row. */
  scores: Float64Array;
  /** 1 at the rows where the detector's own alert rule opened an incident. */
  alertOnsets: Uint8Array;
  /** Rows dropped by the stream as late, in file order. */
  lateRows: number[];
  /** Windows scored. */
  windows: number;
}

export interface ScoreReplayOptions {
  entityId: string;
  windowLength: number;
  /** Windows per scorer call. Default the service's `scorer.microBatchSize`. */
  microBatchSize?: number;
  /** Called after each scored batch with the rows done so far (the newest row scored + 1). */
  onProgress?: (rowsDone: number) => void;
}

/** The service's stream settings for a replayed file: no reordering, no alignment, hop 1. */
export function replayStreamConfig(channels: readonly string[], windowLength: number): StreamConfig {
  return { ...DEFAULTS.stream, channels: [...channels], allowedLatenessMs: 0, stepMs: 0, windowLength, hop: 1 };
}

export async function scoreReplay(series: CsvSeries, detector: FileDetector, opts: ScoreReplayOptions): Promise<ReplayScores> {
  const N = series.timestamps.length;
  const out: ReplayScores = { scores: new Float64Array(N), alertOnsets: new Uint8Array(N), lateRows: [], windows: 0 };
  const cfg = { stream: replayStreamConfig(series.channels, opts.windowLength) };
  const maxSize = opts.microBatchSize ?? DEFAULTS.scorer.microBatchSize;

  const scoreBatch = async (batch: Window[]): Promise<void> => {
    const scores = await detector.scorer.score(batch);
    let last = 0;
    batch.forEach((w, i) => {
      // With stepMs 0 every row is one reading, so the newest source is the window's newest row.
      const row = rowOfOffset(w.sources[w.sources.length - 1].offset);
      const j = detector.judge(w, scores[i]);
      out.scores[row] = j.anomalyScore;
      if (j.alertOnset) out.alertOnsets[row] = 1;
      last = row;
    });
    out.windows += batch.length;
    opts.onProgress?.(last + 1);
  };

  await lastValueFrom(
    replaySource(series, { entityId: opts.entityId }).pipe(
      windowsByEntity(cfg, {
        onLate: (r) => out.lateRows.push(rowOfOffset(r.source.offset)),
        onDiscard: () => {}, // nothing to acknowledge: the replay has no offsets to commit
      }),
      batchWhileBusy<Window, void>({ maxSize, maxWaitMs: DEFAULTS.scorer.microBatchMs }, scoreBatch),
    ),
    { defaultValue: undefined },
  );
  opts.onProgress?.(N);
  return out;
}
