/**
 * What `top` reads: InfluxDB `/query` answers (fixtures recorded from InfluxDB 1.6.7 with
 * `epoch=ms`) and `/metrics` scrapes (prom-client's own text of a `Metrics`), and a source that
 * turns two reads into rates.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRICS, Metrics } from '../../../src/metrics.ts';
import { LATEST_ALERTS_QUERY, LATEST_SCORES_QUERY, displayUrl, latestAlerts, latestScores, type QueryAnswer } from '../../../src/top/influxLatest.ts';
import { opsScrapeOf, readinessOf, readyzUrl, type OpsProbe, type OpsReading } from '../../../src/top/opsProbe.ts';
import { parsePromText, sumOf } from '../../../src/top/promText.ts';
import { entityRows } from '../../../src/top/topModel.ts';
import { createTopSource } from '../../../src/top/topSource.ts';

const fixture = (name: string): QueryAnswer => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8')) as QueryAnswer;

describe('InfluxDB answers', () => {
  it('queries the newest point per entity and per (entity, kind), names from influxPoints.ts', () => {
    expect(LATEST_SCORES_QUERY).toBe('SELECT * FROM "scores" GROUP BY "entity" ORDER BY time DESC LIMIT 1');
    expect(LATEST_ALERTS_QUERY).toBe('SELECT * FROM "alerts" GROUP BY "entity", "kind" ORDER BY time DESC LIMIT 1');
  });

  it('reads the latest scores and alerts, with their group tags', () => {
    const scores = latestScores(fixture('latest-scores.json'));
    expect(scores).toEqual([
      { entity: 'ec2-latency', time: 1395373260000, state: 'anomaly', score: 7.788394927978516, threshold: 6, modelVersion: 'baseline-v1' },
      { entity: 'ambient-temp', time: 1385143200000, state: 'normal', score: 0.45698022842407227, threshold: 6, modelVersion: 'baseline-v1' },
    ]);
    const alerts = latestAlerts(fixture('latest-alerts.json'));
    expect(alerts.map((a) => [a.entity, a.kind, a.state, a.severity, a.startTime])).toEqual([
      ['ec2-latency', 'silence', 'resolved', 'warning', 1394334000000],
      ['ec2-latency', 'model', 'ongoing', 'critical', 1395370860000],
      ['ambient-temp', 'silence', 'resolved', 'critical', 1381777200000],
    ]);
    const rows = entityRows(scores, alerts);
    expect(rows.map((r) => [r.entity, r.state, r.openAlerts.length])).toEqual([
      ['ec2-latency', 'anomaly', 1],
      ['ambient-temp', 'normal', 0],
    ]);
  });

  it('reads a cold start (no model, no score: nulls) as such', () => {
    const scores = latestScores(fixture('cold-start-scores.json'));
    expect(scores[0]).toEqual({ entity: 'cold-b', time: 1394292660000, state: 'warmup', score: undefined, threshold: undefined, modelVersion: 'none' });
    expect(entityRows(scores, []).map((r) => r.state)).toEqual(['cold start', 'cold start']);
  });

  it("throws InfluxDB's own error, and reads an empty database as no rows", () => {
    expect(() => latestScores(fixture('database-not-found.json'))).toThrow('database not found: nope');
    expect(latestScores({ results: [{ statement_id: 0 }] })).toEqual([]);
  });

  it('shows the URL without its credentials', () => {
    expect(displayUrl('http://admin:s3cret@influx.local:8086')).toBe('http://influx.local:8086');
  });
});

describe('/metrics and /readyz', () => {
  it('sums readings, windows and lag over their label sets in a prom-client scrape', async () => {
    const m = new Metrics();
    m.inc(METRICS.readingsDecoded, 40, { topic: 'a' });
    m.inc(METRICS.readingsDecoded, 2, { topic: 'b' });
    m.inc(METRICS.windowsScored, 33);
    m.set(METRICS.consumerLag, 5, { topic: 'a', partition: '0' });
    m.set(METRICS.consumerLag, 7, { topic: 'a', partition: '1' });
    m.observe(METRICS.endToEndLatency, 0.2);
    expect(opsScrapeOf(await m.text(), 1_000)).toEqual({ at: 1_000, readings: 42, windows: 33, lag: 12 });
  });

  it('reads counters not created yet as 0 and an unmeasured lag as unknown', async () => {
    expect(opsScrapeOf(await new Metrics().text(), 5)).toEqual({ at: 5, readings: 0, windows: 0, lag: null });
  });

  it('parses labels with escapes, exponents and special values', () => {
    const s = parsePromText('# HELP x y\n# TYPE x counter\nx{a="q\\"uo,te",b="1"} 1.5e3\nx 2 1700000000000\ny +Inf\nnot a sample\n');
    expect(s).toEqual([
      { name: 'x', labels: { a: 'q"uo,te', b: '1' }, value: 1500 },
      { name: 'x', labels: {}, value: 2 },
      { name: 'y', labels: {}, value: Number.POSITIVE_INFINITY },
    ]);
    expect(sumOf(s, 'x')).toBe(1502);
    expect(sumOf(s, 'z')).toBeUndefined();
  });

  it('reads /readyz next to /metrics, 503 as not ready with the failing checks', () => {
    expect(readyzUrl('http://127.0.0.1:9464/metrics')).toBe('http://127.0.0.1:9464/readyz');
    expect(readinessOf(200, '{"ready":true,"notReady":[]}')).toEqual({ ready: true, notReady: [] });
    expect(readinessOf(503, '{"ready":false,"notReady":["influxdb"]}')).toEqual({ ready: false, notReady: ['influxdb'] });
    expect(readinessOf(502, '<html>')).toBeNull();
  });
});

describe('createTopSource', () => {
  const influx = { read: async () => ({ scores: latestScores(fixture('latest-scores.json')), alerts: [] }) };
  const probeOf = (readings: OpsReading[]): OpsProbe => ({ metricsUrl: 'http://h:1/metrics', read: async () => readings.shift()! });
  const ok = (at: number, readings: number, windows: number): OpsReading => ({ ok: true, scrape: { at, readings, windows, lag: 3 }, readiness: { ready: true, notReady: [] } });

  it('computes rates from consecutive scrapes and starts over after the endpoint was unreachable', async () => {
    const ops = probeOf([ok(0, 0, 0), ok(2_000, 400, 300), { ok: false, error: 'ECONNREFUSED' }, ok(5_000, 900, 800), ok(6_000, 1_000, 850)]);
    const source = createTopSource({ influx, ops, influxUrl: 'http://i', database: 'd', now: () => 1 });
    const rates = [];
    for (let i = 0; i < 5; i++) {
      const f = await source.next();
      rates.push(f.ops.reachable ? [f.ops.throughput.readingsPerSecond, f.ops.throughput.windowsPerSecond] : f.ops.error);
      expect(f.influx.ok).toBe(true);
    }
    expect(rates).toEqual([[null, null], [200, 150], 'ECONNREFUSED', [null, null], [100, 50]]);
  });

  it('keeps the entity rows when /metrics is unreachable, and the pipeline part when InfluxDB is', async () => {
    const down = createTopSource({ influx, ops: probeOf([{ ok: false, error: 'ECONNREFUSED' }]), influxUrl: 'http://i', database: 'd' });
    const f = await down.next();
    expect(f.ops).toEqual({ reachable: false, url: 'http://h:1/metrics', error: 'ECONNREFUSED' });
    expect(f.influx.ok && f.influx.rows.length).toBe(2);
    const broken = createTopSource({ influx: { read: () => Promise.reject(new Error('unreachable: ECONNREFUSED')) }, ops: probeOf([ok(0, 0, 0)]), influxUrl: 'http://i', database: 'd' });
    const g = await broken.next();
    expect(g.influx).toEqual({ ok: false, error: 'unreachable: ECONNREFUSED' });
    expect(g.ops.reachable).toBe(true);
    const none = await createTopSource({ influx, ops: undefined, influxUrl: 'http://i', database: 'd' }).next();
    expect(none.ops).toMatchObject({ reachable: false, url: null, error: expect.stringContaining('pass --metrics') });
  });
});
