/**
 * The contract between the NAB harness and a detector. A detector is a factory of per-file
 * detectors: each NAB file is scored by a fresh one (NAB runs every file independently), which
 * sees the file only through the service's stream operators, one window at a time.
 */
import type { Scorer, Window, WindowScore } from '../../../types.ts';

/** What a detector may know about a file before it scores it. */
export interface FileContext {
  /** NAB data path, e.g. `realKnownCause/nyc_taxi.csv`. */
  path: string;
  /** Rows in the file. */
  rows: number;
  /** NAB's probationary rows of this file (15 %, at most 750): unscored by NAB, so a model may train on them. */
  probationaryRows: number;
  /**
   * The probationary rows only, and nothing later: what a trained detector may fit on.
   * `values[i * C + c]` is row i of channel c.  // [P, C]
   */
  training: { channels: readonly string[]; timestamps: Float64Array; values: Float64Array };
  /** Seed for every random draw of the detector (noise, initial weights); runs are repeatable. */
  seed: number;
}

/** What a detector concludes from one scored window. */
export interface Judgement {
  /**
   * NAB's `anomaly_score` of the window's newest row: in [0, 1), strictly increasing in the
   * evidence and never saturating, so that no two different evidences tie at the top.
   */
  anomalyScore: number;
  /** True when the detector's own alert rule opens an incident at this window (an onset). */
  alertOnset: boolean;
}

/**
 * Judges each scored window, called once per window in stream order. Stateful: this is where
 * calibration, adaptive thresholds and the alert lifecycle live. No threshold is fitted on labels.
 */
export type Judge = (window: Window, score: WindowScore) => Judgement;

/** One file's detector: a streaming scorer and what turns its scores into NAB output and alerts. */
export interface FileDetector {
  scorer: Scorer;
  judge: Judge;
  /** A fixed alert level on the `anomaly_score` scale, drawn in the report; NaN when adaptive. */
  alertThreshold: number;
  close(): Promise<void>;
}

/** A detector the harness can run. Its `name` is used in the NAB results file names. */
export interface NabDetector {
  readonly name: string;
  /** One line for `--help` and the report. */
  readonly summary: string;
  /** Points per window L; the stream cuts windows of L rows with a hop of 1. */
  readonly windowLength: number;
  /** Every knob and its value, recorded in `summary.json`; none is tuned per file. */
  readonly params: Readonly<Record<string, number | string | boolean>>;
  open(ctx: FileContext): Promise<FileDetector>;
}
