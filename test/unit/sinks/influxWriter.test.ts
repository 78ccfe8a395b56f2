import type { IPoint } from 'influx';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InfluxConfig } from '../../../src/config/schema.ts';
import { SinkError } from '../../../src/errors.ts';
import { createInfluxWriter } from '../../../src/sinks/influxWriter.ts';
import { OK, startFakeInflux, type FakeInflux } from './helpers/fakeInflux.ts';
import { manualSleep, manualTimers, recordingLogger } from './helpers/manual.ts';

const point = (i: number, measurement = 'scores'): IPoint => ({
  measurement,
  tags: { entity: `e${i % 3}` },
  fields: { score: i + 0.5 },
  timestamp: 1_700_000_000_000 + i,
});
const lineOf = (i: number) => `scores,entity=e${i % 3} score=${i + 0.5} ${1_700_000_000_000 + i}`;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/** Marks a promise so a test can tell whether it has settled yet. */
function track<T>(p: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let done = false;
  const promise = p.finally(() => (done = true));
  return { settled: () => done, promise };
}

let fake: FakeInflux;
let cfg: InfluxConfig;

beforeEach(async () => {
  fake = await startFakeInflux();
  cfg = { url: fake.url, database: 'dw', batchSize: 3, flushIntervalMs: 1_000, maxBufferPoints: 10, retryDelayMs: 100, maxRetryDelayMs: 800, timeoutMs: 5_000 };
});
afterEach(() => fake.close());

describe('createInfluxWriter batching', () => {
  it('sends full batches at once and the remainder when the flush interval fires', async () => {
    const timers = manualTimers();
    const writer = createInfluxWriter(cfg, { timers, log: recordingLogger() });
    const w = track(writer.write(range(0, 7).map((i) => point(i))));

    await timers.armed(); // the writer went idle with a partial batch
    expect(fake.requests.map((r) => r.lines.length)).toEqual([3, 3]);
    expect(writer.buffered).toBe(1);
    expect(w.settled()).toBe(false);
    expect(timers.set).toEqual([1_000]);

    timers.fireAll();
    await expect(w.promise).resolves.toMatchObject({ written: 7, rejected: 0 });
    expect(fake.requests.map((r) => r.lines.length)).toEqual([3, 3, 1]);
    expect(fake.storedOrder).toEqual(range(0, 7).map(lineOf));
    for (const r of fake.requests) {
      expect(r.query.get('db')).toBe('dw');
      expect(r.query.get('precision')).toBe('ms');
    }
    expect(writer.stats()).toMatchObject({ written: 7, rejected: 0, requests: 3, retries: 0, buffered: 0 });
  });

  it('holds a partial batch for one interval counted from its first point', async () => {
    const timers = manualTimers();
    const writer = createInfluxWriter(cfg, { timers, log: recordingLogger() });
    const a = writer.write([point(0)]);
    const b = writer.write([point(1)]);
    await timers.armed();
    expect(timers.set).toEqual([1_000]); // the second write did not restart the clock
    expect(fake.requests).toHaveLength(0);

    timers.fireAll();
    await Promise.all([a, b]);
    expect(fake.requests.map((r) => r.lines)).toEqual([[lineOf(0), lineOf(1)]]);
  });

  it('flush() sends a partial batch without waiting for the timer', async () => {
    const timers = manualTimers();
    const writer = createInfluxWriter(cfg, { timers, log: recordingLogger() });
    const w = writer.write([point(0), point(1)]);
    await writer.flush();
    expect(fake.requests.map((r) => r.lines)).toEqual([[lineOf(0), lineOf(1)]]);
    await expect(w).resolves.toMatchObject({ written: 2, rejected: 0 });
    expect(timers.pending()).toBe(0);
  });

  it('refuses invalid points locally and counts them', async () => {
    const log = recordingLogger();
    const writer = createInfluxWriter(cfg, { timers: manualTimers(), log });
    const w = writer.write([point(0), { measurement: 'scores', tags: { entity: 'x' }, fields: { score: NaN }, timestamp: 5 }]);
    await writer.flush();
    await expect(w).resolves.toMatchObject({ written: 1, rejected: 1, rejectedPoints: [{ index: 1, error: { code: 'POINT_INVALID' } }] });
    expect(fake.requests.map((r) => r.lines)).toEqual([[lineOf(0)]]);
    expect(writer.stats().invalid).toBe(1);
    expect(log.records.some((r) => r.level === 'error' && String(r.fields.error).includes('not finite'))).toBe(true);
  });
});

describe('createInfluxWriter failures', () => {
  it('retries 5xx, 429 and dropped connections with backoff until the server recovers', async () => {
    const answers = [{ status: 503 }, { status: 500 }, 'drop' as const, { status: 429 }, { status: 502 }];
    fake.respond = () => answers.shift() ?? OK;
    const sleeper = manualSleep(true);
    const log = recordingLogger();
    const writer = createInfluxWriter(cfg, { sleep: sleeper.sleep, random: () => 0.5, timers: manualTimers(), log });

    await expect(writer.write(range(0, 3).map((i) => point(i)))).resolves.toMatchObject({ written: 3, rejected: 0 });
    expect(fake.requests).toHaveLength(6);
    expect(new Set(fake.requests.map((r) => r.body)).size).toBe(1); // the same batch every time
    // ceilings 100, 200, 400, 800, 800 (capped) times the jitter draw 0.5
    expect(sleeper.delays).toEqual([50, 100, 200, 400, 400]);
    expect([...fake.stored.values()]).toEqual([1, 1, 1]);
    expect(fake.storedOrder).toEqual(range(0, 3).map(lineOf));
    const retries = log.records.filter((r) => r.msg === 'influx write failed, retrying');
    expect(retries.map((r) => r.fields.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(retries.map((r) => r.fields.status)).toEqual([503, 500, undefined, 429, 502]);
    expect(writer.stats()).toMatchObject({ written: 3, retries: 5, requests: 6, rejected: 0 });
  });

  it('splits a batch answered 413 until the pieces fit, keeping order', async () => {
    fake.respond = (lines) => (lines.length > 2 ? { status: 413, body: '{"error":"Request Entity Too Large"}' } : OK);
    const writer = createInfluxWriter({ ...cfg, batchSize: 5 }, { timers: manualTimers(), log: recordingLogger() });

    await expect(writer.write(range(0, 5).map((i) => point(i)))).resolves.toMatchObject({ written: 5, rejected: 0 });
    expect(fake.requests.map((r) => r.lines.length)).toEqual([5, 3, 2, 1, 2]);
    expect(fake.storedOrder).toEqual(range(0, 5).map(lineOf));
    expect([...fake.stored.values()].every((n) => n === 1)).toBe(true);
    expect(writer.stats().splits).toBe(2);
  });

  it('rejects a single point that is still too large, and keeps the rest', async () => {
    fake.respond = (lines) => (lines.some((l) => l.includes('huge')) ? { status: 413 } : OK);
    const log = recordingLogger();
    const writer = createInfluxWriter(cfg, { timers: manualTimers(), log });
    const huge: IPoint = { measurement: 'scores', tags: { entity: 'huge' }, fields: { score: 1 }, timestamp: 9 };

    await expect(writer.write([point(0), huge, point(2)])).resolves.toMatchObject({ written: 2, rejected: 1 });
    expect(fake.storedOrder).toEqual([lineOf(0), lineOf(2)]);
    expect(writer.stats().rejected).toBe(1);
    expect(log.records.find((r) => r.msg === 'influx rejected point')?.fields.line).toContain('huge');
  });

  it('isolates the bad points of a 400 by bisection, never retrying them', async () => {
    // Like InfluxDB 1.x: a field-type conflict stores the good points and answers 400 "partial write".
    fake.respond = (lines) => {
      const bad = lines.filter((l) => l.startsWith('alerts'));
      if (bad.length === 0) return OK;
      return {
        status: 400,
        body: JSON.stringify({ error: `partial write: field type conflict: input field "score" on measurement "alerts" is type string, already exists as type float dropped=${bad.length}` }),
        store: lines.filter((l) => !bad.includes(l)),
      };
    };
    const sleeper = manualSleep(true);
    const log = recordingLogger();
    const writer = createInfluxWriter({ ...cfg, batchSize: 8 }, { sleep: sleeper.sleep, timers: manualTimers(), log });
    const points = range(0, 8).map((i) => (i === 2 || i === 5 ? { ...point(i, 'alerts'), fields: { score: 'x' } } : point(i)));

    const result = await writer.write(points);
    expect(result).toMatchObject({ written: 6, rejected: 2 });
    // Which points were not stored, with the server's reason: the caller must not count them as written.
    expect(result.rejectedPoints.map((r) => [r.index, r.error.code])).toEqual([[2, 'SINK_REJECTED'], [5, 'SINK_REJECTED']]);
    expect(result.rejectedPoints[0].error.message).toContain('field type conflict');
    const good = range(0, 8).filter((i) => i !== 2 && i !== 5).map(lineOf);
    expect(new Set(fake.stored.keys())).toEqual(new Set(good));
    expect(sleeper.delays).toEqual([]); // a 400 is never retried as such
    expect(writer.stats()).toMatchObject({ rejected: 2, written: 6, retries: 0 });
    const rejected = log.records.filter((r) => r.msg === 'influx rejected point');
    expect(rejected.map((r) => String(r.fields.line).slice(0, 6))).toEqual(['alerts', 'alerts']);
    expect(String(rejected[0].fields.error)).toContain('field type conflict');
    expect(log.records.find((r) => r.msg === 'influx rejected batch, isolating bad points')?.fields.batchSize).toBe(8);
  });
});

describe('createInfluxWriter backpressure and close', () => {
  it('holds writes beyond maxBufferPoints while the server is down, then delivers everything once', async () => {
    let down = true;
    const bufferedAtRequest: number[] = [];
    fake.respond = () => {
      bufferedAtRequest.push(writer.buffered);
      return down ? { status: 503 } : OK;
    };
    const sleeper = manualSleep();
    const writer = createInfluxWriter({ ...cfg, batchSize: 2, maxBufferPoints: 4 }, { sleep: sleeper.sleep, random: () => 1, timers: manualTimers(), log: recordingLogger() });

    const a = track(writer.write([point(0), point(1)]));
    await sleeper.requested(); // first request failed; the writer is backing off
    const b = track(writer.write([point(2), point(3)]));
    const c = track(writer.write(range(4, 9).map((i) => point(i))));
    sleeper.release();
    await fake.waitForRequests(2);
    await sleeper.requested(); // second failure: c had every chance to get in by now
    expect(writer.buffered).toBe(4);
    expect([a.settled(), b.settled(), c.settled()]).toEqual([false, false, false]);

    down = false;
    sleeper.release();
    await writer.flush(); // the last odd point would otherwise wait for the (manual) timer
    await expect(Promise.all([a.promise, b.promise, c.promise])).resolves.toEqual([
      { written: 2, rejected: 0, rejectedPoints: [] }, { written: 2, rejected: 0, rejectedPoints: [] }, { written: 5, rejected: 0, rejectedPoints: [] },
    ]);
    expect(fake.storedOrder).toEqual(range(0, 9).map(lineOf));
    expect([...fake.stored.values()].every((n) => n === 1)).toBe(true);
    expect(Math.max(...bufferedAtRequest)).toBeLessThanOrEqual(4);
    expect(sleeper.delays).toEqual([100, 200]);
  });

  it('close() flushes what is buffered, stops the timer and refuses later writes', async () => {
    const timers = manualTimers();
    const writer = createInfluxWriter(cfg, { timers, log: recordingLogger() });
    const w = writer.write([point(0)]);
    await timers.armed();
    await writer.close();
    await expect(w).resolves.toMatchObject({ written: 1, rejected: 0 });
    expect(fake.storedOrder).toEqual([lineOf(0)]);
    expect(timers.pending()).toBe(0);
    const err = await writer.write([point(1)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).code).toBe('SINK_CLOSED');
    expect(fake.requests).toHaveLength(1);
  });
});

describe('createInfluxWriter.ensureDatabase', () => {
  it('creates the database with a quoted name, retrying a transient failure', async () => {
    const answers = [{ status: 503 }];
    fake.respond = () => answers.shift() ?? OK;
    const sleeper = manualSleep(true);
    const writer = createInfluxWriter({ ...cfg, database: 'dw "x"' }, { sleep: sleeper.sleep, timers: manualTimers(), log: recordingLogger() });
    await writer.ensureDatabase();
    const queries = fake.requests.filter((r) => r.path === '/query').map((r) => new URLSearchParams(r.body).get('q'));
    expect(queries).toEqual(['CREATE DATABASE "dw \\"x\\""', 'CREATE DATABASE "dw \\"x\\""']);
    expect(sleeper.delays).toHaveLength(1);
  });

  it('gives up after the given attempts with a retriable SinkError', async () => {
    fake.respond = () => ({ status: 500 });
    const writer = createInfluxWriter(cfg, { sleep: manualSleep(true).sleep, timers: manualTimers(), log: recordingLogger() });
    const err = await writer.ensureDatabase(3).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SINK_UNAVAILABLE', retriable: true, status: 500 });
    expect(fake.requests).toHaveLength(3);
  });
});
