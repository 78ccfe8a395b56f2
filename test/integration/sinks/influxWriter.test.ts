/** The InfluxDB writer against the stack's InfluxDB 1.x: shapes, types, counts and idempotent rewrites. */
import { InfluxDB } from 'influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfluxConfig } from '../../../src/config/schema.ts';
import {
  ALERT_FIELDS, ALERTS_MEASUREMENT, CONTRIB_FIELD_PREFIX, SCORE_FIELDS, SCORE_TAGS, SCORES_MEASUREMENT, alertPoint, scorePoint,
} from '../../../src/sinks/influxPoints.ts';
import { createInfluxWriter, type InfluxWriter } from '../../../src/sinks/influxWriter.ts';
import { anomalyEvent, scoredWindow } from '../../unit/sinks/fixtures.ts';
import { recordingLogger } from '../../unit/sinks/helpers/manual.ts';
import { influxUrl, uniqueName } from '../helpers.ts';

const T0 = 1_700_000_000_000;
const ENTITIES = ['pump-0', 'pump-1', 'pump-2'];
const PER_ENTITY = 40;

const windows = ENTITIES.flatMap((entityId, e) =>
  Array.from({ length: PER_ENTITY }, (_, i) => scoredWindow({ entityId, endTime: T0 + i * 1_000, score: e * 100 + i + 0.25, isAnomaly: i % 10 === 9 })),
);
const events = [
  anomalyEvent({ entityId: 'pump-0', endTime: T0 + 9_000, startTime: T0 + 9_000, state: 'open' }),
  anomalyEvent({ entityId: 'pump-0', endTime: T0 + 10_000, startTime: T0 + 9_000, state: 'resolved', severity: 'warning', eventId: 'e-resolved' }),
];

let database: string;
let influx: InfluxDB;
let writer: InfluxWriter;
const log = recordingLogger();

beforeAll(async () => {
  database = uniqueName('dw-sinks');
  const url = new URL(influxUrl());
  influx = new InfluxDB({ host: url.hostname, port: Number(url.port), database });
  const cfg: InfluxConfig = { url: influxUrl(), database, batchSize: 50, flushIntervalMs: 20, maxBufferPoints: 200, retryDelayMs: 50, maxRetryDelayMs: 500, timeoutMs: 10_000 };
  writer = createInfluxWriter(cfg, { log });
  await writer.ensureDatabase();
});

afterAll(async () => {
  await writer?.close();
  await influx?.dropDatabase(database);
});

const count = async (q: string) => (await influx.query<{ count: number }>(q)).map((r) => r.count);

describe('createInfluxWriter against InfluxDB 1.x', () => {
  it('stores every score and alert with the declared shape and field types', async () => {
    await expect(writer.write(windows.map(scorePoint))).resolves.toEqual({ written: 120, rejected: 0, rejectedPoints: [] });
    await expect(writer.write(events.map(alertPoint))).resolves.toEqual({ written: 2, rejected: 0, rejectedPoints: [] });

    const perEntity = await influx.query<{ entity: string; count: number }>(`SELECT count(${SCORE_FIELDS.score}) FROM ${SCORES_MEASUREMENT} GROUP BY ${SCORE_TAGS.entity}`);
    expect(perEntity.map((r) => [r.entity, r.count])).toEqual(ENTITIES.map((e) => [e, PER_ENTITY]));
    expect(await count(`SELECT count(${SCORE_FIELDS.anomaly}) FROM ${SCORES_MEASUREMENT} WHERE ${SCORE_FIELDS.anomaly} = true`)).toEqual([12]);

    const [row] = await influx.query<Record<string, unknown> & { time: Date }>(
      `SELECT * FROM ${SCORES_MEASUREMENT} WHERE ${SCORE_TAGS.entity} = 'pump-1' AND time = ${(T0 + 9_000) * 1e6}`, { precision: 'ms' },
    );
    expect(row.time.getTime()).toBe(T0 + 9_000);
    expect(row).toMatchObject({
      entity: 'pump-1', model_version: 'baseline@1', scorer: 'baseline', score: 109.25, threshold: 6, anomaly: true, state: 'anomaly',
      [`${CONTRIB_FIELD_PREFIX}temp`]: 0.75, [`${CONTRIB_FIELD_PREFIX}rpm`]: 0.25,
    });

    const alerts = await influx.query<Record<string, unknown> & { time: Date }>(`SELECT * FROM ${ALERTS_MEASUREMENT} ORDER BY time`, { precision: 'ms' });
    expect(alerts.map((a) => ({ ...a, time: a.time.getTime() }))).toEqual([
      { time: T0 + 9_000, entity: 'pump-0', kind: 'score', state: 'open', severity: 'critical', event_id: 'a687cb479c768c350bb4f8618d30f4f1',
        score: 12.5, threshold: 6, start_time: T0 + 9_000, model_version: 'baseline@1', top_channel: 'rpm' },
      { time: T0 + 10_000, entity: 'pump-0', kind: 'score', state: 'resolved', severity: 'warning', event_id: 'e-resolved',
        score: 12.5, threshold: 6, start_time: T0 + 9_000, model_version: 'baseline@1', top_channel: 'rpm' },
    ]);

    const types = await influx.query<{ fieldKey: string; fieldType: string }>(`SHOW FIELD KEYS FROM ${ALERTS_MEASUREMENT}`);
    expect(Object.fromEntries(types.map((t) => [t.fieldKey, t.fieldType]))).toEqual({
      [ALERT_FIELDS.eventId]: 'string', [ALERT_FIELDS.modelVersion]: 'string', [ALERT_FIELDS.score]: 'float',
      [ALERT_FIELDS.startTime]: 'integer', [ALERT_FIELDS.threshold]: 'float', [ALERT_FIELDS.topChannel]: 'string',
    });
  });

  it('rewriting the same windows overwrites instead of duplicating', async () => {
    await writer.write(windows.map(scorePoint));
    expect(await count(`SELECT count(${SCORE_FIELDS.score}) FROM ${SCORES_MEASUREMENT}`)).toEqual([120]);
  });

  it('isolates a field-type conflict (400) and still stores the good points of the batch', async () => {
    const good = [0, 1, 2, 3].map((i) => scorePoint(scoredWindow({ entityId: 'fan-9', endTime: T0 + 500_000 + i, score: i })));
    const bad = { ...good[2], fields: { ...good[2].fields, [SCORE_FIELDS.score]: 'not-a-number' }, timestamp: T0 + 600_000 };
    const result = await writer.write([good[0], good[1], bad, good[2], good[3]]);
    expect(result).toMatchObject({ written: 4, rejected: 1 });
    // The caller learns which point was not stored (the window it belongs to is dead-lettered) and why.
    expect(result.rejectedPoints.map((r) => [r.index, r.error.code])).toEqual([[2, 'SINK_REJECTED']]);
    expect(result.rejectedPoints[0].error.message).toContain('field type conflict');
    expect(await count(`SELECT count(${SCORE_FIELDS.state}) FROM ${SCORES_MEASUREMENT} WHERE ${SCORE_TAGS.entity} = 'fan-9'`)).toEqual([4]);
    expect(writer.stats().rejected).toBe(1);
    const rejected = log.records.filter((r) => r.msg === 'influx rejected point');
    expect(rejected).toHaveLength(1);
    expect(String(rejected[0].fields.error)).toMatch(/field type conflict/);
    expect(String(rejected[0].fields.line)).toContain('score="not-a-number"');
  });
});
