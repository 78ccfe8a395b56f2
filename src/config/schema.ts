/**
 * The one configuration schema of diffwatch: every key, its default, its unit and why.
 * Files in `config/` and environment variables only override these defaults;
 * `loadConfig` validates the result once and freezes it.
 */
import { DEFAULT_LIFECYCLE_OPTIONS, type AlertLifecycleOptions } from '../detect/alertLifecycle.ts';
import type { ChannelLimits } from '../detect/rules/outOfRange.ts';
import { ONSET_SCORER_DEFAULTS, type OnsetScorerConfig } from '../detect/onsetScorer.ts';
import { THRESHOLD_STATE_DEFAULTS, type ThresholdStateConfig } from '../detect/thresholdState.ts';

export type IngestFormat = 'avro' | 'confluent' | 'json';

export interface KafkaConfig {
  /** Bootstrap brokers, host:port. Env: KAFKA_BROKERS (comma-separated). */
  brokers: string[];
  clientId: string;
  /** Consumer group. Env: DIFFWATCH_GROUP_ID. */
  groupId: string;
  /** Telemetry topics to consume. Env: DIFFWATCH_TOPICS (comma-separated). Exclusive with topicPattern. */
  topics: string[];
  /** A regular expression over topic names, instead of `topics`. */
  topicPattern: string | null;
  /** Where a group with no committed offset starts. */
  fromBeginning: boolean;
  /** ms; the broker evicts a member that sends no heartbeat for this long. */
  sessionTimeoutMs: number;
  /** ms; must be well under sessionTimeoutMs. */
  heartbeatIntervalMs: number;
  /** ms the broker may hold a fetch open waiting for data; also how late a resumed partition can start. */
  maxWaitTimeMs: number;
  /** bytes fetched per partition per request; bounds how much a pause leaves already fetched. */
  maxBytesPerPartition: number;
  /** ms between commits of the per-partition watermarks. */
  commitIntervalMs: number;
}

export interface IngestConfig {
  /** Wire format of topics not listed in `formats`. */
  format: IngestFormat;
  /** Per-topic wire format, topic → format. */
  formats: Record<string, IngestFormat>;
  /** Confluent schema id → path of the writer's .avsc (relative to the working directory). */
  schemaIds: Record<string, string>;
  /** Per-topic writer schema of plain-Avro topics whose producers use an older schema, topic → .avsc path. */
  writerSchemas: Record<string, string>;
  /** Path of the reader schema for readings. */
  readingSchema: string;
  /** bytes; larger messages go to the dead-letter topic as MESSAGE_TOO_LARGE. */
  maxMessageBytes: number;
  /**
   * characters (code points) per entity id, channel name, tag key and tag value; longer ones go
   * to the dead-letter topic as RECORD_INVALID (the character rules: src/textRules.ts).
   */
  maxNameLength: number;
  /** Dead-letter topic = source topic + this suffix. */
  dlqSuffix: string;
  /** Windows in flight (sent to the scorer and sinks, not yet durable) above which a partition is paused. */
  highWaterMark: number;
  /** Windows in flight below which a paused partition resumes. */
  lowWaterMark: number;
}

export interface StreamConfig {
  /** Channel names in order. Empty: take them from each entity's first reading, sorted. */
  channels: string[];
  /** ms; readings up to this much older than the newest seen are reordered, older ones are late. */
  allowedLatenessMs: number;
  /** ms of wall-clock time without a reading after which an entity's state is dropped (bounds memory). */
  entityIdleMs: number;
  /** ms; align readings to this step. 0: no alignment (each reading is one row). */
  stepMs: number;
  /** Steps a gap may be forward-filled; a longer gap is marked and its windows are not scored as normal. */
  maxFillSteps: number;
  /** Window length L, in points. */
  windowLength: number;
  /** Hop h between windows, in points (1 = a window per new point). */
  hop: number;
}

export interface ScorerConfig {
  kind: 'baseline' | 'diffusion';
  /** Windows per scorer call, across entities. */
  microBatchSize: number;
  /** ms to wait for a micro-batch to fill before scoring what is there. */
  microBatchMs: number;
  diffusion: {
    /** Checkpoint directory written by `diffwatch train`: the shared model of every entity that no rule in `models` maps elsewhere. */
    modelDir: string | null;
    /** Scoring worker threads; 0: one per core. */
    workers: number;
    /** TF.js backend: auto picks the fastest available (tensorflow, webgpu, wasm, cpu). */
    backend: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
    /**
     * Directory of the models the service trains itself (cold start, fine-tuning) and of per-entity
     * normalization: `<modelStore>/<key>/<version>/` with `<key>/CURRENT` naming the live version.
     */
    modelStore: string | null;
    /** Entity → model rules; the first whose `match` (a regular expression) finds the entity id wins. */
    models: ModelAssignment[];
    coldStart: ColdStartConfig;
    fineTune: FineTuneConfig;
  };
  baseline: {
    /** Points of history per entity and channel for the running median and MAD. */
    historyLength: number;
    /** Points of history an entity needs before its scores may alert (warm-up). */
    minHistory: number;
  };
}

/**
 * Which model scores an entity:
 * - `dir`: a checkpoint written by `diffwatch train`, shared by every matching entity. With
 *   `normalization: 'entity'` each entity is scaled by its own robust statistics, fitted on its
 *   first `coldStart.windows` windows (warm-up until then), so one network serves machines that
 *   run at different levels.
 * - `entity`: a model per entity, trained by the service on the entity's first
 *   `coldStart.windows` windows (cold start) and fine-tuned as configured.
 * - `group`: one model for all matching entities, trained on the first windows of the group.
 * An entity no rule matches uses `modelDir`; when that is null, it gets a model of its own.
 */
export type ModelAssignment =
  | { match: string; use: 'dir'; dir: string; normalization: 'model' | 'entity' }
  | { match: string; use: 'entity' }
  | { match: string; use: 'group'; group: string };

export interface ColdStartConfig {
  /** Windows an entity (or group) collects before its model is trained or its normalization fitted. */
  windows: number;
  /** Overrides of the model's hyper-parameters for models trained here (windowLength is always stream.windowLength). */
  training: Record<string, number | string | boolean>;
  /** Training jobs at once, each on one worker thread: the CPU share training may take. */
  maxConcurrent: number;
  /**
   * Hold scoring (and so, through backpressure, consumption) while a cold start trains, so that a
   * replay or backfill is scored by the new model instead of racing past it as warm-up.
   * Off for live telemetry, which arrives far slower than a model trains.
   */
  hold: boolean;
}

export interface FineTuneConfig {
  /** Fine-tune an entity or group model after this many windows judged normal; 0: never. */
  everyWindows: number;
  /** The most recent normal windows kept per model to fine-tune on. */
  recentWindows: number;
  epochs: number;
  /** Refit the input scaler on the recent windows, so that the model follows a new normal level. */
  refitNormalization: boolean;
  /**
   * After this many windows in a row judged anomalous, take them as the new normal (a level shift,
   * a re-tuned machine): fine-tune on them with a refitted scaler (or refit the entity's scaler),
   * so that the incident resolves instead of staying open for days. 0: never.
   */
  adoptAfterWindows: number;
}

export interface InfluxConfig {
  /** Env: INFLUX_URL. */
  url: string;
  database: string;
  /** Points per write request. */
  batchSize: number;
  /** ms; a partial batch is written after this long. */
  flushIntervalMs: number;
  /** Points buffered at most; above it the writer pushes back on ingest. */
  maxBufferPoints: number;
  /** ms; first retry delay, doubled up to maxRetryDelayMs, with jitter. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** ms per request. */
  timeoutMs: number;
}

/**
 * Retention of the `diffwatch` database: raw per-window points under one retention policy, and
 * continuous queries that roll scores and states up into 1-minute and 1-hour measurements, each under a
 * longer policy. Durations are InfluxQL durations (`30d`, `52w`, `720h`) or `INF` (keep forever).
 */
export interface InfluxRetentionConfig {
  /** Create the policies and continuous queries at start-up (idempotently). Off: write to the database's default policy. */
  enabled: boolean;
  /** How long raw per-window scores, states and alerts are kept. */
  raw: string;
  /** How long the 1-minute roll-ups are kept. */
  minute: string;
  /** How long the 1-hour roll-ups are kept. */
  hour: string;
}

export interface SinksConfig {
  /** Topic for alert events. */
  anomaliesTopic: string;
  /** Scored micro-batches that may await durability at once (their acks may complete out of order). */
  maxBatchesInFlight: number;
  influx: InfluxConfig;
  /** How long InfluxDB keeps what diffwatch writes (retention policies and roll-ups, created at start-up). */
  retention: InfluxRetentionConfig;
}

export interface StackConfig {
  /** Where the local stack keeps jars, data and logs (git-ignored). */
  dir: string;
  kafkaVersion: string;
  kafkaPort: number;
  controllerPort: number;
  influxPort: number;
  /** ms to wait for both services to become healthy. */
  readyTimeoutMs: number;
}

export interface DetectConfig {
  /** Compacted topic holding each entity's detector state, keyed by entity. */
  stateTopic: string;
  /**
   * How a window's score becomes a decision: `threshold`, the calibrated likelihood and SPOT/DSPOT
   * levels (`threshold`); or `onset`, the rank-calibrated, onset-gated evidence of `onsetScorer`:
   * one alert per excursion (docs/detection.md, "Onset judging").
   */
  judge: 'threshold' | 'onset';
  /** The adaptive threshold per entity (src/detect/thresholdState.ts); its `warmupWindows` applies to both judges. */
  threshold: ThresholdStateConfig;
  /** The onset judge (src/detect/onsetScorer.ts); its evidence and levels are in digits of surprise. */
  onsetScorer: OnsetScorerConfig;
  /** The alert lifecycle (src/detect/alertLifecycle.ts). */
  lifecycle: AlertLifecycleOptions;
  rules: {
    /** A stuck sensor: a channel that varied before stays within epsilon for minPoints points. */
    flatline: { enabled: boolean; minPoints: number; epsilon: number };
    /** Per-channel limits, channel → { min?, max? }; empty: no range rule. */
    outOfRange: { limits: Record<string, ChannelLimits> };
    /** No data for minSteps typical steps (learned from arrivals, or stream.stepMs). */
    silence: { enabled: boolean; minSteps: number };
  };
}

/** What an operator reads from a running service. */
export interface OpsConfig {
  /** The HTTP endpoint serving /metrics (Prometheus text format), /healthz and /readyz. */
  http: { enabled: boolean; host: string; port: number };
  /** ms between the pipeline-health points written to InfluxDB's `diffwatch_internal` measurement; 0: none. */
  internalIntervalMs: number;
}

export interface DiffwatchConfig {
  kafka: KafkaConfig;
  ingest: IngestConfig;
  stream: StreamConfig;
  scorer: ScorerConfig;
  detect: DetectConfig;
  sinks: SinksConfig;
  stack: StackConfig;
  ops: OpsConfig;
  log: { level: 'debug' | 'info' | 'warn' | 'error' | 'silent' };
}

export const DEFAULTS: DiffwatchConfig = {
  kafka: {
    brokers: ['127.0.0.1:9092'],
    clientId: 'diffwatch',
    groupId: 'diffwatch',
    topics: ['telemetry'],
    topicPattern: null,
    fromBeginning: true,
    sessionTimeoutMs: 30_000,
    heartbeatIntervalMs: 3_000,
    maxWaitTimeMs: 1_000,
    maxBytesPerPartition: 1_048_576,
    commitIntervalMs: 1_000,
  },
  ingest: {
    format: 'avro',
    formats: {},
    schemaIds: {},
    writerSchemas: {},
    readingSchema: 'schemas/sensor-reading.avsc',
    maxMessageBytes: 64 * 1024,
    maxNameLength: 256,
    dlqSuffix: '.dlq',
    highWaterMark: 10_000,
    lowWaterMark: 2_000,
  },
  stream: {
    channels: [],
    allowedLatenessMs: 0,
    entityIdleMs: 10 * 60_000,
    stepMs: 0,
    maxFillSteps: 3,
    windowLength: 64,
    hop: 1,
  },
  scorer: {
    kind: 'baseline',
    microBatchSize: 256,
    microBatchMs: 20,
    diffusion: {
      modelDir: null,
      workers: 0,
      backend: 'auto',
      modelStore: null,
      models: [],
      coldStart: { windows: 2_000, training: {}, maxConcurrent: 1, hold: false },
      fineTune: { everyWindows: 0, recentWindows: 5_000, epochs: 3, refitNormalization: true, adoptAfterWindows: 0 },
    },
    baseline: { historyLength: 1024, minHistory: 64 },
  },
  detect: {
    stateTopic: 'diffwatch.state',
    judge: 'threshold',
    threshold: { ...THRESHOLD_STATE_DEFAULTS, calibration: { ...THRESHOLD_STATE_DEFAULTS.calibration } },
    onsetScorer: structuredClone(ONSET_SCORER_DEFAULTS) as OnsetScorerConfig,
    lifecycle: { ...DEFAULT_LIFECYCLE_OPTIONS, severity: { ...DEFAULT_LIFECYCLE_OPTIONS.severity } },
    rules: {
      flatline: { enabled: true, minPoints: 60, epsilon: 0 },
      outOfRange: { limits: {} },
      silence: { enabled: true, minSteps: 10 },
    },
  },
  sinks: {
    anomaliesTopic: 'anomalies',
    maxBatchesInFlight: 32,
    influx: {
      url: 'http://127.0.0.1:8086',
      database: 'diffwatch',
      batchSize: 5_000,
      flushIntervalMs: 500,
      maxBufferPoints: 50_000,
      retryDelayMs: 200,
      maxRetryDelayMs: 10_000,
      timeoutMs: 10_000,
    },
    retention: { enabled: true, raw: '30d', minute: '365d', hour: 'INF' },
  },
  stack: {
    dir: '.stack',
    kafkaVersion: '4.4.0',
    kafkaPort: 9092,
    controllerPort: 9093,
    influxPort: 8086,
    readyTimeoutMs: 120_000,
  },
  ops: {
    http: { enabled: true, host: '127.0.0.1', port: 9464 },
    internalIntervalMs: 10_000,
  },
  log: { level: 'info' },
};
