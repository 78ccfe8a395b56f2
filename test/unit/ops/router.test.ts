import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/metrics.ts';
import { createReadiness, ProbeState, type CheckResult, type ReadyCheck } from '../../../src/ops/readiness.ts';
import { createRouter } from '../../../src/ops/router.ts';
import { opsRouter } from '../../../src/ops/startOps.ts';
import { startHttpServer } from '../../../src/ops/httpServer.ts';

const ok = (): CheckResult => ({ ok: true });

function checks(over: Partial<Record<ReadyCheck, () => CheckResult>> = {}) {
  return createReadiness({ kafka_group: ok, kafka_broker: ok, kafka_producer: ok, influxdb: ok, scorer: ok, ...over });
}

describe('createRouter', () => {
  const route = createRouter({ '/a': () => ({ status: 200, body: 'a' }), '/boom': () => Promise.reject(new Error('broken')) });

  it('routes GET and HEAD by path, ignoring the query string', async () => {
    expect(await route('GET', '/a?x=1')).toEqual({ status: 200, body: 'a' });
    expect((await route('HEAD', '/a')).status).toBe(200);
  });

  it('answers 404 for an unknown path, 405 for another method, 500 when a handler throws', async () => {
    expect((await route('GET', '/nope')).status).toBe(404);
    expect((await route('GET', '/toString')).status).toBe(404);
    const post = await route('POST', '/a');
    expect(post.status).toBe(405);
    expect(post.headers?.allow).toBe('GET, HEAD');
    expect(await route('GET', '/boom')).toMatchObject({ status: 500, body: 'broken\n' });
  });
});

describe('readiness', () => {
  it('is ready when every check passes, and names those that fail', () => {
    expect(checks().report()).toMatchObject({ ready: true, notReady: [] });
    const r = checks({ influxdb: () => ({ ok: false, reason: 'down' }), scorer: () => { throw new Error('gone'); } }).report();
    expect(r.ready).toBe(false);
    expect(r.notReady).toEqual(['influxdb', 'scorer']);
    expect(r.checks.scorer).toEqual({ ok: false, reason: 'gone' });
  });

  it('a probe is not ready until it has answered once', () => {
    const p = new ProbeState('Kafka');
    expect(p.check()).toEqual({ ok: false, reason: 'Kafka not probed yet' });
    p.record({ ok: true }, 5);
    expect(p.check()).toEqual({ ok: true });
    expect(p.at).toBe(5);
  });
});

describe('opsRouter', () => {
  it('serves /metrics in the text format, /healthz, and /readyz with 503 and the failing checks', async () => {
    const metrics = new Metrics();
    metrics.inc('diffwatch_windows_scored_total', 3);
    let influx: CheckResult = { ok: false, reason: 'InfluxDB unreachable: ECONNREFUSED' };
    let stopped = false;
    const route = opsRouter(metrics, checks({ influxdb: () => influx }), () => stopped);

    const m = await route('GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.headers?.['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(m.body).toContain('diffwatch_windows_scored_total 3');

    expect((await route('GET', '/healthz')).status).toBe(200);
    const notReady = await route('GET', '/readyz');
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body)).toMatchObject({ ready: false, notReady: ['influxdb'], checks: { influxdb: { reason: 'InfluxDB unreachable: ECONNREFUSED' } } });

    influx = { ok: true };
    expect((await route('GET', '/readyz')).status).toBe(200);
    stopped = true;
    expect((await route('GET', '/readyz')).status).toBe(503);
    expect((await route('GET', '/healthz')).status).toBe(503);
  });
});

describe('startHttpServer', () => {
  it('listens on an ephemeral port, says which, and refuses a port in use with the key to change', async () => {
    const route = createRouter({ '/healthz': () => ({ status: 200, body: 'ok\n' }) });
    const a = await startHttpServer({ host: '127.0.0.1', port: 0, route });
    try {
      expect(a.address.port).toBeGreaterThan(0);
      const res = await fetch(`${a.address.url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok\n');
      await expect(startHttpServer({ host: '127.0.0.1', port: a.address.port, route })).rejects.toThrow(/ops\.http\.port/);
    } finally {
      await a.close();
    }
  });
});
