/**
 * Retention without InfluxDB: duration parsing, refusal of unusable durations, the statements
 * sent to a server that has nothing yet, and the warning about data left in the old default
 * policy. The behaviour on a real server is in test/integration/sinks/retention.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import { durationMs, ensureRetention } from '../../../src/sinks/retention.ts';
import { backfillStatement, createCqStatement, rollupQueries } from '../../../src/sinks/rollups.ts';
import { recordingLogger } from './helpers/manual.ts';

const INFLUX = { url: 'http://127.0.0.1:1', database: 'dw', timeoutMs: 1_000 };
const SETTINGS = { enabled: true, raw: '30d', minute: '365d', hour: 'INF' };

/** A fake server: answers SHOW statements from `state`, records every other statement. */
function fakeHttp(state: { autogenShards: boolean }) {
  const sent: string[] = [];
  const series = (name: string, columns: string[], values: unknown[][]) => ({ results: [{ series: [{ name, columns, values }] }] });
  return {
    sent,
    async query(q: string) {
      if (q.startsWith('SHOW RETENTION POLICIES')) return series('', ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default'], [['autogen', '0s', '168h0m0s', 1, true]]);
      if (q === 'SHOW CONTINUOUS QUERIES') return { results: [{ series: [{ name: 'dw', columns: ['name', 'query'] }] }] };
      if (q === 'SHOW SHARDS') return series('dw', ['id', 'database', 'retention_policy'], state.autogenShards ? [[1, 'dw', 'autogen']] : []);
      sent.push(q);
      return { results: [{}] };
    },
  };
}

describe('durationMs', () => {
  it('reads InfluxQL durations, Go durations from SHOW RETENTION POLICIES, and INF', () => {
    expect(['30d', '52w', '720h', '1h30m', '720h0m0s', '8760h0m0s', 'INF', 'inf', '0s'].map(durationMs)).toEqual(
      [2_592_000_000, 31_449_600_000, 2_592_000_000, 5_400_000, 2_592_000_000, 31_536_000_000, 0, 0, 0],
    );
    for (const bad of ['', '30', 'thirty days', '30dd', '1y', '-1d']) expect(durationMs(bad), bad).toBeUndefined();
  });
});

describe('ensureRetention', () => {
  it('on a fresh database: creates the policies (raw as the default), then every CQ', async () => {
    const http = fakeHttp({ autogenShards: false });
    const log = recordingLogger();
    await ensureRetention(INFLUX, SETTINGS, { http, log });
    expect(http.sent.slice(0, 3)).toEqual([
      'CREATE RETENTION POLICY "raw" ON "dw" DURATION 30d REPLICATION 1 DEFAULT',
      'CREATE RETENTION POLICY "rollup_1m" ON "dw" DURATION 365d REPLICATION 1',
      'CREATE RETENTION POLICY "rollup_1h" ON "dw" DURATION INF REPLICATION 1',
    ]);
    expect(http.sent.slice(3)).toEqual(rollupQueries().map((q) => createCqStatement('dw', q)));
    expect(log.records.filter((r) => r.level === 'warn')).toEqual([]); // autogen was empty
  });

  it('warns when the previous default policy holds data, which stays there', async () => {
    const log = recordingLogger();
    await ensureRetention(INFLUX, SETTINGS, { http: fakeHttp({ autogenShards: true }), log });
    expect(log.records.filter((r) => r.level === 'warn')).toMatchObject([{ fields: { previous: 'autogen', now: 'raw' } }]);
  });

  it('refuses a duration InfluxDB cannot keep, naming the key', async () => {
    for (const [key, value] of [['raw', '30 days'], ['minute', '30m'], ['hour', '1y']] as const) {
      const err = await ensureRetention(INFLUX, { ...SETTINGS, [key]: value }, { http: fakeHttp({ autogenShards: false }), log: recordingLogger() }).catch((e) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toContain(`sinks.retention.${key}`);
    }
  });
});

describe('roll-up statements', () => {
  it('a CQ per state and resolution, each reading raw and writing its roll-up policy', () => {
    expect(rollupQueries().map((q) => q.name)).toEqual(['1m', '1h'].flatMap((r) => ['scores', 'normal', 'warmup', 'gap', 'anomaly', 'alerts'].map((n) => `diffwatch_${n}_${r}`)));
    const gap = rollupQueries().find((q) => q.name === 'diffwatch_gap_1h')!;
    expect(createCqStatement('dw', gap)).toBe(
      'CREATE CONTINUOUS QUERY "diffwatch_gap_1h" ON "dw" RESAMPLE EVERY 1h FOR 2h BEGIN SELECT count("state") AS "gap" INTO "dw"."rollup_1h"."scores_1h" FROM "dw"."raw"."scores" WHERE "state" = \'gap\' GROUP BY time(1h), * END',
    );
    expect(backfillStatement('dw', gap, 0, 3_600_000)).toBe(
      'SELECT count("state") AS "gap" INTO "dw"."rollup_1h"."scores_1h" FROM "dw"."raw"."scores" WHERE "state" = \'gap\' AND time >= 0ms AND time < 3600000ms GROUP BY time(1h), *',
    );
  });
});
