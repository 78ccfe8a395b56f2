/**
 * The service's Prometheus metrics, named and described once here (METRIC_SPECS), in a prom-client
 * `Registry` of their own: one `Metrics` per service instance, so tests can run several at once.
 * `GET /metrics` serves `text()`; the service logs `snapshot()` (its counters) when it stops, and
 * the pipeline-health writer (ops/internalReporter.ts) reads `total`, `read` and `drain`.
 *
 * Values come in three ways: pushed (`inc`, `set`, `observe`) where the event happens, or
 * sampled (`sample`): a function read at every scrape, for figures another module already keeps
 * (buffer fill, queue depth, entities by state).
 *
 * @example
 * const metrics = new Metrics({ defaultMetrics: true });
 * metrics.inc(METRICS.deadLettered, 1, { code: 'DECODE_FAILED' });
 * metrics.observe(METRICS.endToEndLatency, 0.42); // seconds
 * metrics.sample(METRICS.scoringQueue, () => pool.stats().queuedWeight);
 * const body = await metrics.text();
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRICS = {
  /** Kafka messages fetched, by `topic`. */
  messagesConsumed: 'diffwatch_messages_consumed_total',
  /** Messages decoded into readings, by `topic`. readings/s = rate() of this. */
  readingsDecoded: 'diffwatch_readings_decoded_total',
  /** Messages sent to the dead-letter topic, by error `code`. */
  deadLettered: 'diffwatch_dead_lettered_total',
  lateRecords: 'diffwatch_late_records_total',
  discardedReadings: 'diffwatch_discarded_readings_total',
  /** Windows durable in every sink (InfluxDB stored every point). windows/s = rate() of this. */
  windowsScored: 'diffwatch_windows_scored_total',
  /** Windows with a point InfluxDB did not store, by `code` (POINT_INVALID, SINK_REJECTED); sent to the DLQ (service/rejectedWindows.ts). */
  windowsRejected: 'diffwatch_windows_rejected_total',
  alertsEmitted: 'diffwatch_alert_events_total',
  pointsWritten: 'diffwatch_influx_points_total',
  partitionsPaused: 'diffwatch_partition_pauses_total',
  offsetsCommitted: 'diffwatch_offset_commits_total',
  /** Entities with live stream state (window buffers), at most stream.maxEntities. */
  entitiesLive: 'diffwatch_entities_live',
  /** Readings of a new entity refused because stream.maxEntities entities were live (dead-lettered as ENTITY_LIMIT). */
  entitiesRefused: 'diffwatch_entities_refused_total',
  /** Models made live, by `why`: restored, cold start, fine-tune, new normal, entity normalization fitted. */
  modelSwaps: 'diffwatch_model_swaps_total',
  /** Cold starts, fine-tunes and adoptions that failed (the live version stays), by `why`. */
  modelTrainingFailures: 'diffwatch_model_training_failures_total',
  /** Broker log-end offset minus the group's committed offset, by `topic` and `partition` (partitions this instance owns). */
  consumerLag: 'diffwatch_consumer_lag_messages',
  /** Kafka append time of a window's newest message → the window durable in every sink, seconds. */
  endToEndLatency: 'diffwatch_end_to_end_latency_seconds',
  /** One scorer call on a micro-batch, seconds, by `scorer`. */
  modelCallDuration: 'diffwatch_model_call_duration_seconds',
  /** Windows per scorer call, by `scorer`. */
  modelBatchSize: 'diffwatch_model_batch_windows',
  /** Windows waiting for a scoring worker. */
  scoringQueue: 'diffwatch_scoring_queue_windows',
  /** Points in the InfluxDB writer's buffer, queued plus in flight. */
  influxBufferPoints: 'diffwatch_influx_buffer_points',
  /** influxBufferPoints / sinks.influx.maxBufferPoints (0–1): at 1, writes wait (backpressure). */
  influxBufferFill: 'diffwatch_influx_buffer_fill_ratio',
  /** InfluxDB write requests retried after a transient failure. */
  influxRetries: 'diffwatch_influx_retries_total',
  /** Entities by `state`: cold_start (no model yet), warmup (the detector's warm-up), scoring. */
  entities: 'diffwatch_entities',
  /** Model keys served by each model `version`. */
  models: 'diffwatch_models',
  /** TF.js tensors held by the scoring workers, summed (weights of the loaded models plus anything leaked): flat in a steady state. */
  modelTensors: 'diffwatch_model_tensors',
  /** The main thread's V8 heap in use right after its latest major garbage collection (the live heap; NaN before the first one). */
  heapLive: 'diffwatch_heap_live_bytes',
  /** Memory of the scoring workers, summed, by `kind`: heap_used and heap_total (their own V8 heaps, which the process's heap metrics leave out) and wasm (the wasm backend's linear memory). */
  modelWorkerMemory: 'diffwatch_model_worker_memory_bytes',
  /** 1 while /readyz answers 200, by `check` (kafka_group, kafka_broker, kafka_producer, influxdb, scorer) and overall (check="all"). */
  ready: 'diffwatch_ready',
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];

type Kind = 'counter' | 'gauge' | 'histogram';
export interface MetricSpec {
  kind: Kind;
  help: string;
  labels?: readonly string[];
  buckets?: readonly number[];
}

/** Seconds: from a few ms (a hot pipeline) to 10 minutes (a backlog drained after an outage). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const MODEL_CALL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

export const METRIC_SPECS: Record<MetricName, MetricSpec> = {
  [METRICS.messagesConsumed]: { kind: 'counter', help: 'Kafka messages fetched', labels: ['topic'] },
  [METRICS.readingsDecoded]: { kind: 'counter', help: 'Messages decoded into readings', labels: ['topic'] },
  [METRICS.deadLettered]: { kind: 'counter', help: 'Messages sent to the dead-letter topic, by error code', labels: ['code'] },
  [METRICS.lateRecords]: { kind: 'counter', help: 'Readings that arrived after the allowed lateness (dead-lettered)' },
  [METRICS.discardedReadings]: { kind: 'counter', help: 'Readings that left the window buffer without a window (an idle or evicted entity)' },
  [METRICS.windowsScored]: { kind: 'counter', help: 'Windows durable in every sink' },
  [METRICS.windowsRejected]: { kind: 'counter', help: 'Windows with a point InfluxDB did not store (dead-lettered), by code', labels: ['code'] },
  [METRICS.alertsEmitted]: { kind: 'counter', help: 'Alert events sent to the anomalies topic' },
  [METRICS.pointsWritten]: { kind: 'counter', help: 'Points InfluxDB stored' },
  [METRICS.partitionsPaused]: { kind: 'counter', help: 'Partitions paused for backpressure' },
  [METRICS.offsetsCommitted]: { kind: 'counter', help: 'Partition offsets committed' },
  [METRICS.entitiesLive]: { kind: 'gauge', help: 'Entities with live stream state, at most stream.maxEntities' },
  [METRICS.entitiesRefused]: { kind: 'counter', help: 'Readings of a new entity refused at stream.maxEntities (dead-lettered as ENTITY_LIMIT)' },
  [METRICS.modelSwaps]: { kind: 'counter', help: 'Model versions made live, by why', labels: ['why'] },
  [METRICS.modelTrainingFailures]: { kind: 'counter', help: 'Cold starts, fine-tunes and adoptions that failed, by why', labels: ['why'] },
  [METRICS.consumerLag]: { kind: 'gauge', help: 'Log-end offset minus the committed offset of each owned partition, messages', labels: ['topic', 'partition'] },
  [METRICS.endToEndLatency]: { kind: 'histogram', help: "Kafka append time of a window's newest message to the window durable in every sink, seconds", buckets: LATENCY_BUCKETS },
  [METRICS.modelCallDuration]: { kind: 'histogram', help: 'Duration of one scorer call on a micro-batch, seconds', labels: ['scorer'], buckets: MODEL_CALL_BUCKETS },
  [METRICS.modelBatchSize]: { kind: 'histogram', help: 'Windows per scorer call', labels: ['scorer'], buckets: BATCH_BUCKETS },
  [METRICS.scoringQueue]: { kind: 'gauge', help: 'Windows waiting for a scoring worker' },
  [METRICS.influxBufferPoints]: { kind: 'gauge', help: "Points in the InfluxDB writer's buffer, queued plus in flight" },
  [METRICS.influxBufferFill]: { kind: 'gauge', help: 'InfluxDB writer buffer fill, buffered / sinks.influx.maxBufferPoints' },
  [METRICS.influxRetries]: { kind: 'counter', help: 'InfluxDB write requests retried after a transient failure' },
  [METRICS.entities]: { kind: 'gauge', help: 'Entities by state (cold_start, warmup, scoring)', labels: ['state'] },
  [METRICS.models]: { kind: 'gauge', help: 'Model keys served by each model version', labels: ['version'] },
  [METRICS.modelTensors]: { kind: 'gauge', help: 'TF.js tensors held by the scoring workers, summed' },
  [METRICS.heapLive]: { kind: 'gauge', help: 'V8 heap used by the main thread right after its latest major (mark-compact) garbage collection: the live heap' },
  [METRICS.modelWorkerMemory]: { kind: 'gauge', help: 'Memory of the scoring workers, summed: their V8 heaps (heap_used, heap_total) and wasm linear memory (wasm)', labels: ['kind'] },
  [METRICS.ready]: { kind: 'gauge', help: '1 while ready, by check; check="all" is what /readyz answers', labels: ['check'] },
};

export type Labels = Record<string, string>;
/** What a sampler returns: one value, or one value per label set. */
export type Sample = number | ReadonlyArray<{ labels: Labels; value: number }>;

/** Observations of one histogram since the last `drain`, for per-interval quantiles. */
export interface IntervalSummary {
  count: number;
  sum: number;
  /** NaN when count is 0. */
  max: number;
  /** Nearest-rank quantile of a uniform reservoir sample (exact up to `reservoirSize` observations); NaN when empty. */
  quantile(q: number): number;
}

export interface MetricsOptions {
  /** Also collect prom-client's process metrics (CPU, memory, event-loop lag, GC) into this registry. */
  defaultMetrics?: boolean;
  /** Observations kept per histogram between drains. Default 4096. */
  reservoirSize?: number;
  /** Uniform [0, 1) source for the reservoir. */
  random?: () => number;
}

type Handle = Counter | Gauge | Histogram;

class Reservoir {
  values: number[] = [];
  count = 0;
  sum = 0;
  max = Number.NaN;
  constructor(
    private readonly size: number,
    private readonly random: () => number,
  ) {}

  add(v: number): void {
    this.count++;
    this.sum += v;
    if (!(v <= this.max)) this.max = v;
    if (this.values.length < this.size) this.values.push(v);
    else {
      // Algorithm R: every observation stays with probability size/count.
      const j = Math.floor(this.random() * this.count);
      if (j < this.size) this.values[j] = v;
    }
  }

  summary(): IntervalSummary {
    const sorted = Float64Array.from(this.values).sort();
    const { count, sum, max } = this;
    return {
      count,
      sum,
      max,
      quantile: (q) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]),
    };
  }
}

const keyOf = (name: string, labels?: Labels): string => {
  if (!labels || Object.keys(labels).length === 0) return name;
  const parts = Object.keys(labels)
    .sort()
    .map((l) => `${l}="${labels[l]}"`);
  return `${name}{${parts.join(',')}}`;
};

const asRows = (s: Sample): ReadonlyArray<{ labels: Labels; value: number }> => (typeof s === 'number' ? [{ labels: {}, value: s }] : s);

export class Metrics {
  readonly registry = new Registry();
  private readonly handles = new Map<MetricName, Handle>();
  /** Pushed counter and gauge values by `name{labels}`: what `get`, `total` and `snapshot` read without a scrape. */
  private readonly values = new Map<string, number>();
  private readonly samplers = new Map<MetricName, () => Sample>();
  private readonly reservoirs = new Map<MetricName, Reservoir>();
  private readonly reservoirSize: number;
  private readonly random: () => number;

  constructor(opts: MetricsOptions = {}) {
    this.reservoirSize = opts.reservoirSize ?? 4096;
    this.random = opts.random ?? Math.random;
    for (const [name, spec] of Object.entries(METRIC_SPECS) as [MetricName, MetricSpec][]) this.handles.set(name, this.create(name, spec));
    if (opts.defaultMetrics) this.collectDefaults();
  }

  private defaults = false;

  /** Add prom-client's process metrics (CPU, memory, event-loop lag, GC) to this registry, once. */
  collectDefaults(): void {
    if (this.defaults) return;
    this.defaults = true;
    collectDefaultMetrics({ register: this.registry });
  }

  private create(name: MetricName, spec: MetricSpec): Handle {
    const common = { name, help: spec.help, labelNames: [...(spec.labels ?? [])], registers: [this.registry] };
    const samplers = this.samplers;
    if (spec.kind === 'histogram') return new Histogram({ ...common, buckets: [...spec.buckets!] });
    if (spec.kind === 'gauge') {
      return new Gauge({
        ...common,
        collect() {
          const read = samplers.get(name);
          if (!read) return;
          this.reset();
          for (const r of asRows(read())) this.set(r.labels, r.value);
        },
      });
    }
    return new Counter({
      ...common,
      collect() {
        const read = samplers.get(name);
        if (!read) return;
        // A sampled counter reads a running total another module keeps.
        this.reset();
        for (const r of asRows(read())) if (r.value > 0) this.inc(r.labels, r.value);
      },
    });
  }

  private handle<K extends Kind>(name: MetricName, kind: K): Handle {
    const spec = METRIC_SPECS[name];
    if (!spec || spec.kind !== kind) throw new TypeError(`metric ${name} is a ${spec?.kind ?? 'unknown metric'}, not a ${kind}`);
    return this.handles.get(name)!;
  }

  /** Add `by` to a counter. */
  inc(name: MetricName, by = 1, labels?: Labels): void {
    if (by === 0) return;
    (this.handle(name, 'counter') as Counter).inc(labels ?? {}, by);
    const k = keyOf(name, labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }

  /** Set a gauge. */
  set(name: MetricName, value: number, labels?: Labels): void {
    (this.handle(name, 'gauge') as Gauge).set(labels ?? {}, value);
    this.values.set(keyOf(name, labels), value);
  }

  /** Drop every label set of a pushed gauge (e.g. the lag of partitions no longer owned). */
  clear(name: MetricName): void {
    (this.handle(name, 'gauge') as Gauge).reset();
    for (const k of [...this.values.keys()]) if (k === name || k.startsWith(name + '{')) this.values.delete(k);
  }

  /** Record one observation of a histogram (seconds for durations). */
  observe(name: MetricName, value: number, labels?: Labels): void {
    (this.handle(name, 'histogram') as Histogram).observe(labels ?? {}, value);
    let r = this.reservoirs.get(name);
    if (!r) this.reservoirs.set(name, (r = new Reservoir(this.reservoirSize, this.random)));
    r.add(value);
  }

  /** Read a gauge or counter from `read` at every scrape instead of pushing it. */
  sample(name: MetricName, read: () => Sample): void {
    if (METRIC_SPECS[name].kind === 'histogram') throw new TypeError(`metric ${name} is a histogram; it cannot be sampled`);
    this.samplers.set(name, read);
  }

  /** The current value of one label set (a sampled metric is read now). */
  get(name: MetricName, labels?: Labels): number {
    const read = this.samplers.get(name);
    if (read) return asRows(read()).find((r) => keyOf(name, r.labels) === keyOf(name, labels))?.value ?? 0;
    return this.values.get(keyOf(name, labels)) ?? 0;
  }

  /** Sum over every label set of one counter or gauge (a sampled metric is read now). */
  total(name: MetricName): number {
    const read = this.samplers.get(name);
    if (read) return asRows(read()).reduce((s, r) => s + r.value, 0);
    let sum = 0;
    for (const [k, v] of this.values) if (k === name || k.startsWith(name + '{')) sum += v;
    return sum;
  }

  /** A histogram's observations since the previous drain, and a fresh start. */
  drain(name: MetricName): IntervalSummary {
    this.handle(name, 'histogram');
    const r = this.reservoirs.get(name);
    this.reservoirs.delete(name);
    return (r ?? new Reservoir(1, this.random)).summary();
  }

  /** The counters pushed so far, by `name{labels}` (labels sorted): what the service logs when it stops. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of this.values) {
      const name = k.split('{')[0] as MetricName;
      if (METRIC_SPECS[name].kind === 'counter') out[k] = v;
    }
    return out;
  }

  /** The Prometheus text exposition format of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
