/**
 * Counters and gauges of the service, named once here. A Prometheus exporter can read
 * `snapshot()`; the service logs it on shutdown.
 */
export const METRICS = {
  messagesConsumed: 'diffwatch_messages_consumed_total',
  readingsDecoded: 'diffwatch_readings_decoded_total',
  deadLettered: 'diffwatch_dead_lettered_total',
  lateRecords: 'diffwatch_late_records_total',
  discardedReadings: 'diffwatch_discarded_readings_total',
  /** Windows whose every point InfluxDB acknowledged. */
  windowsScored: 'diffwatch_windows_scored_total',
  /** Windows with a point InfluxDB did not store, by `code` (POINT_INVALID, SINK_REJECTED); sent to the DLQ (service/rejectedWindows.ts). */
  windowsRejected: 'diffwatch_windows_rejected_total',
  alertsEmitted: 'diffwatch_alert_events_total',
  pointsWritten: 'diffwatch_influx_points_total',
  partitionsPaused: 'diffwatch_partition_pauses_total',
  offsetsCommitted: 'diffwatch_offset_commits_total',
  /** Models made live, by `why`: restored, cold start, fine-tune, new normal, entity normalization fitted. */
  modelSwaps: 'diffwatch_model_swaps_total',
  /** Cold starts, fine-tunes and adoptions that failed (the live version stays). */
  modelTrainingFailures: 'diffwatch_model_training_failures_total',
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];

export class Metrics {
  private values = new Map<string, number>();

  inc(name: MetricName, by = 1, labels?: Record<string, string>): void {
    const k = Metrics.key(name, labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }

  set(name: MetricName, value: number, labels?: Record<string, string>): void {
    this.values.set(Metrics.key(name, labels), value);
  }

  get(name: MetricName, labels?: Record<string, string>): number {
    return this.values.get(Metrics.key(name, labels)) ?? 0;
  }

  /** Sum over every label set of one metric. */
  total(name: MetricName): number {
    let sum = 0;
    for (const [k, v] of this.values) if (k === name || k.startsWith(name + '{')) sum += v;
    return sum;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.values);
  }

  private static key(name: string, labels?: Record<string, string>): string {
    if (!labels) return name;
    const parts = Object.keys(labels).sort().map((l) => `${l}="${labels[l]}"`);
    return `${name}{${parts.join(',')}}`;
  }
}
