import { describe, expect, it } from 'vitest';
import { parseScrape } from './promText.ts';
import { METRIC_SPECS, METRICS, Metrics } from '../../../src/metrics.ts';

describe('Metrics', () => {
  it('keeps a registry per instance: two services never share counts', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.inc(METRICS.windowsScored, 2);
    expect(a.get(METRICS.windowsScored)).toBe(2);
    expect(b.get(METRICS.windowsScored)).toBe(0);
    expect(await b.text()).toContain('diffwatch_windows_scored_total 0');
  });

  it('declares every metric with its labels; a label it does not declare is refused', () => {
    const m = new Metrics();
    m.inc(METRICS.deadLettered, 1, { code: 'DECODE_FAILED' });
    expect(() => m.inc(METRICS.deadLettered, 1, { topic: 't' })).toThrow();
    expect(() => m.set(METRICS.windowsScored, 1)).toThrow(/counter, not a gauge/);
    expect(Object.keys(METRIC_SPECS).sort()).toEqual(Object.values(METRICS).sort());
  });

  it('counts by label set, sums with total, and snapshots the counters as name{labels}', () => {
    const m = new Metrics();
    m.inc(METRICS.deadLettered, 1, { code: 'DECODE_FAILED' });
    m.inc(METRICS.deadLettered, 2, { code: 'LATE_RECORD' });
    m.set(METRICS.consumerLag, 5, { topic: 't', partition: '0' });
    expect(m.total(METRICS.deadLettered)).toBe(3);
    expect(m.get(METRICS.deadLettered, { code: 'LATE_RECORD' })).toBe(2);
    expect(m.snapshot()).toEqual({ 'diffwatch_dead_lettered_total{code="DECODE_FAILED"}': 1, 'diffwatch_dead_lettered_total{code="LATE_RECORD"}': 2 });
    m.clear(METRICS.consumerLag);
    expect(m.total(METRICS.consumerLag)).toBe(0);
  });

  it('reads sampled gauges and counters at each scrape', async () => {
    const m = new Metrics();
    let queued = 3;
    let retries = 1;
    m.sample(METRICS.scoringQueue, () => queued);
    m.sample(METRICS.influxRetries, () => retries);
    m.sample(METRICS.entities, () => [
      { labels: { state: 'warmup' }, value: 2 },
      { labels: { state: 'scoring' }, value: 7 },
    ]);
    const first = parse(await m.text());
    expect(first.diffwatch_scoring_queue_windows).toEqual([{ labels: {}, value: '3' }]);
    expect(first.diffwatch_influx_retries_total).toEqual([{ labels: {}, value: '1' }]);
    queued = 0;
    retries = 4;
    const second = parse(await m.text());
    expect(second.diffwatch_scoring_queue_windows[0].value).toBe('0');
    expect(second.diffwatch_influx_retries_total[0].value).toBe('4');
    expect(second.diffwatch_entities).toEqual([
      { labels: { state: 'warmup' }, value: '2' },
      { labels: { state: 'scoring' }, value: '7' },
    ]);
    expect(m.get(METRICS.entities, { state: 'scoring' })).toBe(7);
  });

  it('observes histograms and drains what an interval saw', async () => {
    const m = new Metrics();
    for (const v of [0.1, 0.2, 0.3, 0.4, 2]) m.observe(METRICS.endToEndLatency, v);
    const s = m.drain(METRICS.endToEndLatency);
    expect(s.count).toBe(5);
    expect(s.max).toBe(2);
    expect(s.quantile(0.5)).toBe(0.3);
    expect(s.quantile(0.99)).toBe(2);
    expect(m.drain(METRICS.endToEndLatency).count).toBe(0);
    expect(Number.isNaN(m.drain(METRICS.endToEndLatency).quantile(0.5))).toBe(true);
    // Draining the interval does not reset the Prometheus histogram.
    const h = parseHistogram(await m.text(), 'diffwatch_end_to_end_latency_seconds');
    expect(h.count).toBe(5);
    expect(h.buckets['0.25']).toBe(2);
  });

  it('keeps a bounded reservoir, with exact count and max', () => {
    const m = new Metrics({ reservoirSize: 10, random: () => 0.5 });
    for (let i = 1; i <= 1000; i++) m.observe(METRICS.modelBatchSize, i, { scorer: 'baseline' });
    const s = m.drain(METRICS.modelBatchSize);
    expect(s.count).toBe(1000);
    expect(s.max).toBe(1000);
    expect(s.sum).toBe(500_500);
  });

  it('adds the process metrics once', async () => {
    const m = new Metrics({ defaultMetrics: true });
    m.collectDefaults();
    expect(await m.text()).toContain('process_cpu_user_seconds_total');
  });
});

function parse(text: string): Record<string, Array<{ labels: Record<string, string>; value: string }>> {
  const out: Record<string, Array<{ labels: Record<string, string>; value: string }>> = {};
  for (const [name, f] of parseScrape(text).families) out[name] = f.metrics.map((x) => ({ labels: x.labels ?? {}, value: x.value! }));
  return out;
}

function parseHistogram(text: string, name: string): { count: number; buckets: Record<string, number> } {
  return parseScrape(text).histogram(name);
}
