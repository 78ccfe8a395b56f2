/** node-influx 5.12 against the stack's InfluxDB 1.x: create a database, write a point, read it back. */
import { InfluxDB } from 'influx';
import { describe, expect, it } from 'vitest';
import { influxUrl, uniqueName } from '../helpers.ts';

describe('InfluxDB from the stack', () => {
  it('answers /ping with 204 and a 1.x version', async () => {
    const res = await fetch(`${influxUrl()}/ping`);
    expect(res.status).toBe(204);
    expect(res.headers.get('x-influxdb-version')).toMatch(/^1\./);
  });

  it('stores a point written with node-influx and returns it from a query', async () => {
    const database = uniqueName('smoke').replace(/-/g, '_');
    const url = new URL(influxUrl());
    const influx = new InfluxDB({ host: url.hostname, port: Number(url.port), database });
    await influx.createDatabase(database);
    try {
      const at = new Date(Date.UTC(2024, 0, 1, 12, 0, 0, 250));
      await influx.writePoints([{ measurement: 'window_score', tags: { entity: 'pump-7' }, fields: { score: 4.25, alert: false }, timestamp: at }], { precision: 'ms' });
      const rows = await influx.query<{ time: Date; entity: string; score: number; alert: boolean }>(`SELECT score, alert, entity FROM window_score WHERE entity = 'pump-7'`, { precision: 'ms' });
      expect(rows.map((r) => ({ t: r.time.getTime(), entity: r.entity, score: r.score, alert: r.alert }))).toEqual([{ t: at.getTime(), entity: 'pump-7', score: 4.25, alert: false }]);
      expect(await influx.getDatabaseNames()).toContain(database);
    } finally {
      await influx.dropDatabase(database);
    }
  });
});
