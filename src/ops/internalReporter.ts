/**
 * The pipeline-health point: every `intervalMs`, one point of INTERNAL_MEASUREMENT with the
 * INTERNAL_FIELDS computed from the service's metrics over the interval, tagged with the
 * instance (host:pid), written straight to InfluxDB. It is telemetry, not data: a point that
 * cannot be written is logged and dropped, and it never waits in the scores' buffer.
 *
 * @example
 * const reporter = startInternalReporter({ metrics, intervalMs: 10_000, write: (l) => http.write(l), log });
 * await reporter.close(); // writes the last partial interval
 */
import { hostname } from 'node:os';
import type { IPoint } from 'influx';
import type { Logger } from '../log.ts';
import { METRICS, type Metrics, type MetricName } from '../metrics.ts';
import { toLineProtocol } from '../sinks/lineProtocol.ts';
import { INTERNAL_FIELDS, INTERNAL_MEASUREMENT, INTERNAL_TAGS } from './internalMeasurement.ts';

/** Counter totals at the start of an interval. */
export interface IntervalStart {
  at: number;
  readings: number;
  windows: number;
  deadLettered: number;
  retries: number;
}

const TOTALS = { readings: METRICS.readingsDecoded, windows: METRICS.windowsScored, deadLettered: METRICS.deadLettered, retries: METRICS.influxRetries } as const satisfies Record<string, MetricName>;

export function intervalStart(metrics: Metrics, at: number): IntervalStart {
  return { at, readings: metrics.total(TOTALS.readings), windows: metrics.total(TOTALS.windows), deadLettered: metrics.total(TOTALS.deadLettered), retries: metrics.total(TOTALS.retries) };
}

/** `host:pid` of this process. */
export function instanceName(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * The point for the interval from `start` to `now` (ms). Histograms are drained. A figure with no
 * observation in the interval (a latency when no window finished) is left out, not written as 0.
 */
export function internalPoint(metrics: Metrics, start: IntervalStart, now: number, instance: string): IPoint {
  const end = intervalStart(metrics, now);
  const seconds = Math.max((now - start.at) / 1000, 1e-3);
  const latency = metrics.drain(METRICS.endToEndLatency);
  const call = metrics.drain(METRICS.modelCallDuration);
  const batch = metrics.drain(METRICS.modelBatchSize);
  const F = INTERNAL_FIELDS;
  const fields: Record<string, number> = {
    [F.readingsPerSecond]: (end.readings - start.readings) / seconds,
    [F.windowsPerSecond]: (end.windows - start.windows) / seconds,
    [F.lagMessages]: metrics.total(METRICS.consumerLag),
    [F.latencyP50Ms]: 1000 * latency.quantile(0.5),
    [F.latencyP99Ms]: 1000 * latency.quantile(0.99),
    [F.latencyMaxMs]: 1000 * latency.max,
    [F.deadLettered]: end.deadLettered - start.deadLettered,
    [F.bufferFill]: metrics.total(METRICS.influxBufferFill),
    [F.influxRetries]: end.retries - start.retries,
    [F.modelCallP50Ms]: 1000 * call.quantile(0.5),
    [F.modelCallP99Ms]: 1000 * call.quantile(0.99),
    [F.modelBatchSize]: batch.count > 0 ? batch.sum / batch.count : Number.NaN,
    [F.workerQueueDepth]: metrics.total(METRICS.scoringQueue),
    [F.entitiesWarmup]: metrics.get(METRICS.entities, { state: 'warmup' }),
    [F.entitiesColdStart]: metrics.get(METRICS.entities, { state: 'cold_start' }),
    [F.entitiesScoring]: metrics.get(METRICS.entities, { state: 'scoring' }),
  };
  for (const k of Object.keys(fields)) if (!Number.isFinite(fields[k])) delete fields[k];
  return { measurement: INTERNAL_MEASUREMENT, tags: { [INTERNAL_TAGS.instance]: instance }, fields, timestamp: new Date(now) };
}

export interface InternalReporter {
  /** Writes the point of the interval so far, then stops. */
  close(): Promise<void>;
}

export interface InternalReporterOptions {
  metrics: Metrics;
  /** ms between points. */
  intervalMs: number;
  /** Sends line-protocol lines to InfluxDB (precision ms). */
  write(lines: string[]): Promise<void>;
  log: Logger;
  instance?: string;
  now?: () => number;
}

export function startInternalReporter(opts: InternalReporterOptions): InternalReporter {
  const now = opts.now ?? Date.now;
  const instance = opts.instance ?? instanceName();
  let start = intervalStart(opts.metrics, now());
  let writing: Promise<void> = Promise.resolve();

  function report(): Promise<void> {
    const at = now();
    const point = internalPoint(opts.metrics, start, at, instance);
    start = intervalStart(opts.metrics, at);
    // One write at a time: a slow InfluxDB must not pile up requests.
    writing = writing
      .then(() => opts.write([toLineProtocol(point)]))
      .catch((e) => opts.log.warn('pipeline-health point not written', { measurement: INTERNAL_MEASUREMENT, error: (e as Error).message }));
    return writing;
  }

  const timer = setInterval(() => void report(), opts.intervalMs);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      await report();
    },
  };
}
