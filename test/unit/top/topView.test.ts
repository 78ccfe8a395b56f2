/** The screen of `diffwatch top`, rendered to text (ink's renderToString, 120 columns, no colours). */
import { renderToString } from 'ink';
import { describe, expect, it } from 'vitest';
import { metricsUrlOf } from '../../../src/cli/topCommand.ts';
import { entityRows, type Frame } from '../../../src/top/topModel.ts';
import { topView } from '../../../src/top/topView.ts';

const at = Date.UTC(2026, 0, 2, 3, 4, 5);
const rows = entityRows(
  [
    { entity: 'pump-1', time: Date.UTC(2024, 0, 1, 12), state: 'normal', score: 1.234, threshold: 6, modelVersion: '69d0b1999f2bb200' },
    { entity: 'pump-2', time: Date.UTC(2024, 0, 1, 12), state: 'anomaly', score: 9.5, threshold: 6, modelVersion: '69d0b1999f2bb200' },
    { entity: 'pump-3', time: Date.UTC(2024, 0, 1, 12), state: 'warmup', modelVersion: 'none' },
  ],
  [{ entity: 'pump-2', kind: 'model', time: 0, state: 'open', severity: 'critical', startTime: 0 }],
);
const frame = (o: Partial<Frame> = {}): Frame => ({
  at,
  influxUrl: 'http://127.0.0.1:8086',
  database: 'diffwatch',
  influx: { ok: true, rows },
  ops: { reachable: true, url: 'http://127.0.0.1:9464/metrics', throughput: { readingsPerSecond: 812.5, windowsPerSecond: 790 }, lag: 12, readiness: { ready: true, notReady: [] } },
  ...o,
});
const lines = (f: Frame, maxRows?: number) => renderToString(topView({ frame: f, maxRows }), { columns: 120 }).split('\n');

describe('TopView', () => {
  it('shows one row per entity, anomalies first, then throughput, lag and readiness', () => {
    const out = lines(frame());
    expect(out[0]).toBe('diffwatch top  InfluxDB http://127.0.0.1:8086 db diffwatch  ·  2026-01-02 03:04:05 UTC');
    const row = (entity: string) => out.find((l) => l.startsWith(entity + ' '))!.split(/\s{2,}/);
    expect(row('pump-2')).toEqual(['pump-2', 'anomaly', '9.50', '6.00', '69d0b1999f2bb200', '1 critical model', '2024-01-01 12:00:00']);
    expect(row('pump-1')).toEqual(['pump-1', 'normal', '1.23', '6.00', '69d0b1999f2bb200', '-', '2024-01-01 12:00:00']);
    expect(row('pump-3')).toEqual(['pump-3', 'cold start', '-', '-', 'none (cold start)', '-', '2024-01-01 12:00:00']);
    expect(out.findIndex((l) => l.startsWith('pump-2'))).toBeLessThan(out.findIndex((l) => l.startsWith('pump-1')));
    expect(out).toContain('throughput    readings/s 812.5   windows/s 790.0');
    expect(out).toContain('consumer lag  12 messages');
    expect(out).toContain('readiness     ready');
  });

  it('says when /metrics is unreachable and keeps the entity rows', () => {
    const out = lines(frame({ ops: { reachable: false, url: 'http://127.0.0.1:9464/metrics', error: 'ECONNREFUSED' } }));
    expect(out.some((l) => l.startsWith('pump-1 '))).toBe(true);
    expect(out).toContain('/metrics      unreachable at http://127.0.0.1:9464/metrics: ECONNREFUSED');
  });

  it('names the failing readiness checks, an InfluxDB error, and the entities that did not fit', () => {
    const notReady = lines(frame({ ops: { reachable: true, url: 'u', throughput: { readingsPerSecond: null, windowsPerSecond: null }, lag: null, readiness: { ready: false, notReady: ['influxdb', 'kafka_group'] } } }));
    expect(notReady).toContain('readiness     not ready: influxdb, kafka_group');
    expect(notReady).toContain('throughput    readings/s -   windows/s -');
    expect(lines(frame({ influx: { ok: false, error: 'database not found: x' } }))).toContain('InfluxDB: database not found: x');
    const cut = lines(frame(), 1);
    expect(cut.filter((l) => l.startsWith('pump-'))).toHaveLength(1);
    expect(cut).toContain('… 2 more entities (anomalies and open alerts are listed first)');
  });
});

describe('TopView on hostile ids', () => {
  it('escapes control characters in entity ids, so an id cannot drive the terminal', () => {
    const hostile = entityRows([{ entity: 'evil\x1b[2J\x07', time: 0, state: 'normal', score: 1, threshold: 2, modelVersion: 'v\r1' }], []);
    const out = lines(frame({ influx: { ok: true, rows: hostile } })).join('\n');
    expect(out).not.toMatch(/[\x00-\x09\x0b-\x1f]/);
    expect(out).toContain('evil\\u{1b}[2J\\u{7}');
    expect(out).toContain('v\\u{d}1');
  });
});

describe('metricsUrlOf', () => {
  it('reaches ops.http on loopback when it listens on every interface; none when off or on port 0', () => {
    expect(metricsUrlOf({ enabled: true, host: '127.0.0.1', port: 9464 })).toBe('http://127.0.0.1:9464/metrics');
    expect(metricsUrlOf({ enabled: true, host: '0.0.0.0', port: 9000 })).toBe('http://127.0.0.1:9000/metrics');
    expect(metricsUrlOf({ enabled: true, host: '::', port: 9000 })).toBe('http://[::1]:9000/metrics');
    expect(metricsUrlOf({ enabled: true, host: '127.0.0.1', port: 0 })).toBeUndefined();
    expect(metricsUrlOf({ enabled: false, host: '127.0.0.1', port: 9464 })).toBeUndefined();
  });
});
