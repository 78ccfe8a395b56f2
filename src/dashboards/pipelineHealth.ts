/**
 * The "diffwatch pipeline health" dashboard (grafana/dashboards/diffwatch-pipeline.json): what the
 * service writes about itself every `ops.internalIntervalMs` into `diffwatch_internal`
 * (src/ops/internalMeasurement.ts), one series per instance. Over an interval of several points,
 * a rate or a p50 is averaged, a p99, a maximum or a fill level takes the highest value, a count
 * is summed, and entity counts take each instance's last value, summed over the instances.
 */
import { INTERNAL_FIELDS as F, INTERNAL_MEASUREMENT, INTERNAL_TAGS } from '../ops/internalMeasurement.ts';
import { dashboard, fixedColor, grid, lines, override, queryVariable, stackedBars, table, target, timeseries, type GridPos, type Json } from './grafana.ts';
import { agg, from, id, matches } from './influxql.ts';

const INTERNAL = from(INTERNAL_MEASUREMENT);
const INSTANCE = matches(INTERNAL_TAGS.instance, 'instance');
const WHERE = `WHERE ${INSTANCE} AND $timeFilter`;
const PER_INSTANCE = `GROUP BY time($__interval), ${id(INTERNAL_TAGS.instance)}`;

/** One per-instance time series query: `SELECT <terms> FROM diffwatch_internal ... GROUP BY time, instance fill(<fill>)`. */
const perInstance = (terms: string[], fill: 'none' | '0') => `SELECT ${terms.join(', ')} FROM ${INTERNAL} ${WHERE} ${PER_INSTANCE} fill(${fill})`;

function chart(panelId: number, title: string, description: string, gridPos: GridPos, query: string, unit: string, opts: { bars?: boolean; alias?: string; defaults?: Json; overrides?: Json[] } = {}): Json {
  return timeseries({
    id: panelId, title, description, gridPos,
    targets: [target('A', query, { alias: opts.alias ?? '$tag_instance $col' })],
    fieldConfig: { defaults: { custom: opts.bars ? stackedBars() : lines(), unit, ...opts.defaults }, overrides: opts.overrides ?? [] },
  });
}

/** The panels, in reading order: is data flowing, how late, where it piles up, what the model costs. */
export function pipelinePanels(): Json[] {
  return [
    chart(1, 'Throughput', 'Readings decoded and windows made durable in every sink, per second, per instance (mean over the interval).', grid(0, 0, 12, 8),
      perInstance([agg('mean', F.readingsPerSecond, 'readings_per_s'), agg('mean', F.windowsPerSecond, 'windows_per_s')], 'none'), 'short'),
    chart(2, 'Consumer lag', 'Messages behind the end of the log, summed over each instance\'s partitions (highest in the interval).', grid(12, 0, 12, 8),
      perInstance([agg('max', F.lagMessages, 'lag')], 'none'), 'short', { alias: '$tag_instance' }),
    chart(3, 'End-to-end latency', 'Kafka append time to window durable in every sink: p50 (mean over the interval), p99 and maximum (highest in the interval).', grid(0, 8, 12, 8),
      perInstance([agg('mean', F.latencyP50Ms, 'p50'), agg('max', F.latencyP99Ms, 'p99'), agg('max', F.latencyMaxMs, 'max')], 'none'), 'ms'),
    chart(4, 'Dead-lettered messages', 'Messages sent to the dead-letter topic per interval: undecodable, invalid, too large or late records.', grid(12, 8, 12, 8),
      perInstance([agg('sum', F.deadLettered, 'dead_lettered')], '0'), 'short', { bars: true, alias: '$tag_instance', defaults: { decimals: 0 }, overrides: [override('byRegexp', '.*', [fixedColor('red')])] }),
    chart(5, 'InfluxDB writer buffer fill', 'Points buffered over sinks.influx.maxBufferPoints (highest in the interval). At 100 % the writer holds back the consumer.', grid(0, 16, 12, 8),
      perInstance([agg('max', F.bufferFill, 'buffer_fill')], 'none'), 'percentunit', { alias: '$tag_instance', defaults: { min: 0, max: 1 } }),
    chart(6, 'InfluxDB write retries', 'Write requests to InfluxDB retried per interval (unavailable, throttled or timed out).', grid(12, 16, 12, 8),
      perInstance([agg('sum', F.influxRetries, 'retries')], '0'), 'short', { bars: true, alias: '$tag_instance', defaults: { decimals: 0 } }),
    chart(7, 'Model call duration', 'Duration of one scoring call: p50 (mean over the interval) and p99 (highest in the interval).', grid(0, 24, 12, 8),
      perInstance([agg('mean', F.modelCallP50Ms, 'p50'), agg('max', F.modelCallP99Ms, 'p99')], 'none'), 'ms'),
    chart(8, 'Model batch size and worker queue', 'Mean windows per model call, and windows waiting for a scoring worker (highest in the interval).', grid(12, 24, 12, 8),
      perInstance([agg('mean', F.modelBatchSize, 'batch_size'), agg('max', F.workerQueueDepth, 'queue_depth')], 'none'), 'short'),
    chart(9, 'Entities by state', 'Entities warming up, waiting for a cold-start model, and scoring: each instance\'s last count in the interval, summed over the selected instances.', grid(0, 32, 12, 8),
      `SELECT ${['warmup', 'cold_start', 'scoring'].map((s) => agg('sum', s, s)).join(', ')} FROM (SELECT ${agg('last', F.entitiesWarmup, 'warmup')}, ${agg('last', F.entitiesColdStart, 'cold_start')}, ${agg('last', F.entitiesScoring, 'scoring')} FROM ${INTERNAL} ${WHERE} ${PER_INSTANCE}) WHERE $timeFilter GROUP BY time($__interval) fill(none)`,
      'short', { bars: true, alias: '$col', defaults: { decimals: 0 }, overrides: [['warmup', 'blue'], ['cold_start', 'orange'], ['scoring', 'green']].map(([n, c]) => override('byName', n, [fixedColor(c)])) }),
    table({
      id: 10, title: 'Instances: latest', description: 'The last figures of every instance that wrote in the time range.', gridPos: grid(12, 32, 12, 8),
      targets: [target('A', `SELECT ${[
        agg('last', F.readingsPerSecond, 'readings_per_s'), agg('last', F.windowsPerSecond, 'windows_per_s'), agg('last', F.lagMessages, 'lag'),
        agg('last', F.latencyP99Ms, 'latency_p99_ms'), agg('last', F.bufferFill, 'buffer_fill'), agg('last', F.workerQueueDepth, 'queue_depth'),
      ].join(', ')} FROM ${INTERNAL} WHERE $timeFilter GROUP BY ${id(INTERNAL_TAGS.instance)}`, { format: 'table' })],
      fieldConfig: { defaults: { custom: { align: 'auto' } }, overrides: [override('byName', 'Time', [{ id: 'custom.hidden', value: true }])] },
    }),
  ];
}

export function pipelineDashboard(): Json {
  return dashboard({
    uid: 'diffwatch-pipeline',
    title: 'diffwatch pipeline health',
    description: `Throughput, lag, latency, dead letters, InfluxDB writer and model figures that every diffwatch instance writes to the ${INTERNAL_MEASUREMENT} measurement.`,
    tags: ['diffwatch', 'operations'],
    time: { from: 'now-3h', to: 'now' },
    variables: [queryVariable('instance', 'Instance', `SHOW TAG VALUES FROM ${INTERNAL} WITH KEY = ${id(INTERNAL_TAGS.instance)}`)],
    panels: pipelinePanels(),
  });
}
