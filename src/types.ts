/**
 * The records that flow through the pipeline: input → operators → sinks.
 * Every record that came from Kafka keeps the coordinates of the message(s)
 * it was built from, so that acknowledgements can flow back to the offsets.
 */

/** Where a record came from: one Kafka message. */
export interface SourceCoord {
  topic: string;
  partition: number;
  /** Kafka offset as a decimal string, as kafkajs reports it. */
  offset: string;
}

/** One decoded telemetry message (schemas/sensor-reading.avsc). */
export interface SensorReading {
  entityId: string;
  /** Event time, epoch milliseconds. */
  timestamp: number;
  /** Channel name → value. Values are finite (non-finite values are rejected at ingest). */
  values: Record<string, number>;
  tags?: Record<string, string>;
}

/** A reading as it travels through the stream, with its source. */
export interface Reading extends SensorReading {
  source: SourceCoord;
}

/**
 * One row of a multichannel series, after ordering (and alignment, when configured).
 * `values[c]` belongs to `channels[c]`.
 */
export interface Row {
  entityId: string;
  /** Event time of the row, epoch milliseconds (the aligned step when aligned). */
  timestamp: number;
  channels: readonly string[];
  values: Float64Array;
  /** The messages this row was built from; empty for a forward-filled row. */
  sources: SourceCoord[];
  /** True when the row is a forward fill of a gap (within the fill limit). */
  filled?: boolean;
  /** True when the row stands for a gap longer than the fill limit; windows containing it are not scored as normal. */
  gap?: boolean;
}

/** A fixed-length multichannel window cut from one entity's rows. */
export interface Window {
  entityId: string;
  channels: readonly string[];
  /** Number of points (L). */
  length: number;
  /** Event time of the first and the last point, epoch ms. */
  startTime: number;
  endTime: number;
  /** Point timestamps, length L. */
  timestamps: Float64Array;
  /** Row-major values: `values[i * C + c]` is point i of channel c.  // [L, C] */
  values: Float32Array;
  /** True when any point is a gap marker; such a window must not be scored as normal. */
  hasGap: boolean;
  /** Source coordinates of every message in the window. */
  sources: SourceCoord[];
  /**
   * Source coordinates of the messages that leave the window buffer with this window:
   * once this window is durable in every sink, those messages are done.
   */
  releases: SourceCoord[];
}

/** What a scorer returns for one window. */
export interface WindowScore {
  /** Anomaly score per point, length L (larger is more anomalous). */
  pointScores: Float32Array;
  /** Per-channel share of the window's evidence, length C, summing to 1 (or all 0). */
  channelContributions: Float32Array;
  /** The window's score: the score of its newest point. */
  score: number;
  /** True while the scorer has too little history for this entity to judge; such scores never alert. */
  warmup: boolean;
  /** The model version that produced this score, when the scorer serves several (per entity, fine-tuned); else the scorer's `version`. */
  modelVersion?: string;
}

/**
 * The scorer interface: the statistical baseline and the diffusion model both implement it.
 * `score` may be called with windows of many entities at once (micro-batching).
 */
export interface Scorer {
  readonly name: string;
  /** Model version that produced the scores, for lineage in sinks. */
  readonly version: string;
  score(windows: readonly Window[]): Promise<WindowScore[]>;
  close?(): Promise<void>;
}

/** A window with its score and the alert decision. */
export interface ScoredWindow {
  window: Window;
  score: WindowScore;
  threshold: number;
  isAnomaly: boolean;
  scorer: string;
  modelVersion: string;
  /**
   * The detector's view of the window: `warmup` (too little history to judge, or a gap),
   * `normal`, `anomalous` (an incident is open), or `replay` (already judged before a restart).
   */
  detectorState?: 'warmup' | 'normal' | 'anomalous' | 'replay';
  /** Calibrated anomaly likelihood in [0, 1]. */
  likelihood?: number;
  /** -log10 of the calibrated tail probability: like the likelihood, but never saturates. */
  surprise?: number;
}

/** The alert event (schemas/anomaly-event.avsc). */
export interface AnomalyEvent {
  eventId: string;
  entityId: string;
  kind: string;
  state: 'open' | 'ongoing' | 'resolved';
  severity: 'info' | 'warning' | 'critical';
  /** Event time of the incident's first window, epoch ms. */
  startTime: number;
  /** Event time of the window whose judgement raised this event, epoch ms. */
  endTime: number;
  /** Wall-clock time at which the event was raised, epoch ms: not part of any id, differs on a replay. */
  detectedAt: number;
  score: number;
  threshold: number;
  modelVersion: string;
  contributions: { channel: string; share: number }[];
}
