/**
 * The pipeline-health figures the service writes to InfluxDB every `ops.internalIntervalMs`, so that a
 * Grafana with only the InfluxDB datasource can show what Prometheus shows. One point per instance and
 * interval in the measurement below; the writer and the pipeline-health dashboard both take their
 * names from here, so they cannot drift.
 *
 * Tag: `instance` (host:pid of the writing process).
 */
export const INTERNAL_MEASUREMENT = 'diffwatch_internal';

export const INTERNAL_TAGS = { instance: 'instance' } as const;

/** Field name → what it holds (the unit is in the name where there is one). */
export const INTERNAL_FIELDS = {
  /** Readings decoded per second over the interval. */
  readingsPerSecond: 'readings_per_s',
  /** Windows made durable in every sink per second over the interval. */
  windowsPerSecond: 'windows_per_s',
  /** Consumer lag summed over the assigned partitions (broker end offset − committed offset), messages. */
  lagMessages: 'lag_messages',
  /** End-to-end latency over the interval, Kafka append time → window durable in every sink, ms. */
  latencyP50Ms: 'latency_p50_ms',
  latencyP99Ms: 'latency_p99_ms',
  latencyMaxMs: 'latency_max_ms',
  /** Messages sent to the dead-letter topic during the interval. */
  deadLettered: 'dead_lettered',
  /** InfluxDB writer buffer fill, points buffered / sinks.influx.maxBufferPoints (0–1). */
  bufferFill: 'buffer_fill',
  /** InfluxDB write retries during the interval. */
  influxRetries: 'influx_retries',
  /** Model call duration over the interval, ms. */
  modelCallP50Ms: 'model_call_p50_ms',
  modelCallP99Ms: 'model_call_p99_ms',
  /** Mean windows per model call over the interval. */
  modelBatchSize: 'model_batch_size',
  /** Windows waiting for a scoring worker. */
  workerQueueDepth: 'worker_queue_depth',
  /** Entities by state. */
  entitiesWarmup: 'entities_warmup',
  entitiesColdStart: 'entities_cold_start',
  entitiesScoring: 'entities_scoring',
} as const;

export type InternalField = (typeof INTERNAL_FIELDS)[keyof typeof INTERNAL_FIELDS];
