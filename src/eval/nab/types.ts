/**
 * The data the NAB scorer works on. Names follow numenta/NAB (`costMatrix`, `tpWeight`,
 * `ThresholdScore`) so that the code can be read side by side with `nab/sweeper.py`.
 */

/** One profile's weights, as in NAB's `config/profiles.json` (`CostMatrix`). */
export interface CostMatrix {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
  /** Present in NAB's profiles but unused by its scorer: true negatives score 0. */
  tnWeight: number;
}

/** A label window: the first and the last timestamp of the window, as written in `combined_windows.json`. */
export type LabelWindow = readonly [start: string, end: string];

/** One data file's detector output, aligned row by row with the data file. */
export interface DetectorFile {
  /** Path relative to NAB's `data/`, e.g. `realKnownCause/nyc_taxi.csv`; also the key in the label file. */
  path: string;
  /** Row timestamps of the data file, epoch ms (UTC reading of NAB's naive timestamps). */
  timestamps: Float64Array;
  /** The detector's `anomaly_score` per row. NaN never counts as a detection. */
  scores: Float64Array;
  /** The file's label windows, in time order. */
  windows: readonly LabelWindow[];
}

/** A detector's output over a corpus. */
export interface DetectorResults {
  detector: string;
  files: DetectorFile[];
  /**
   * Number of windows in the whole label file. NAB's perfect score is this times tpWeight,
   * whether or not a window survives the probationary period.
   */
  labelWindowCount: number;
}

/**
 * The outcome of scoring at one threshold: NAB's `ThresholdScore` plus window counts.
 * Point counts (`tp`, `tn`, `fp`, `fn`) exclude the probationary rows, as in NAB's score files.
 */
export interface ThresholdScore {
  /** Rows with `anomaly_score >= threshold` are detections. */
  threshold: number;
  /** Raw NAB score (sum of weighted TP, FP and FN contributions). */
  score: number;
  tp: number;
  tn: number;
  fp: number;
  fn: number;
  /** Windows with at least one detection (each counts once, at its earliest detection). */
  detectedWindows: number;
  /** Scorable windows with no detection; each costs fnWeight. */
  missedWindows: number;
}
