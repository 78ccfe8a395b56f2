/**
 * Backpressure through a 60 s InfluxDB outage: a TCP proxy between `diffwatch run` and the shared
 * InfluxDB first hangs every connection (a stuck server: requests time out), then resets them
 * (a server that is down) until 60 s have passed, then lets traffic through again. While the
 * sink is unavailable the partition must be paused and the committed offset must not move; once
 * it is back, InfluxDB must hold exactly the windows of the series and the offsets must reach
 * the end of the topic.
 */
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTopics, kafkaBrokers, kafkaClient, uniqueName, waitUntil } from '../integration/helpers.ts';
import {
  NAB, committedOffsets, describeMissing, endOffsets, exitWithin, influxClient, killAllDiffwatch, produceSeries, scoreTimes, startDiffwatch,
  startTcpProxy, windowEndTimes, writeConfig, type DiffwatchProcess, type LogRecord, type TcpProxy,
} from '../integration/service/runHelpers.ts';
import { alertIds, readAll, report } from './faultHelpers.ts';

const WINDOW = 32;
const ROWS = 8_000;
/** Rows produced while InfluxDB is healthy; the rest arrive during the outage. */
const BEFORE_OUTAGE = 2_000;
const HIGH_WATER_MARK = 200;
const FILE = join(NAB, 'machine_temperature_system_failure.csv');
/** ms from the first failed write to InfluxDB being reachable again. */
const OUTAGE_MS = 60_000;
const ENTITY = 'machine-temp';

const isRetry = (r: LogRecord) => r.msg === 'influx write failed, retrying';
const isFlowChange = (r: LogRecord) => r.msg === 'partition paused' || r.msg === 'partition resumed';

/** Index of the first record at or after `from` for which `pred` holds, or -1. */
function indexOf(logs: readonly LogRecord[], pred: (r: LogRecord) => boolean, from = 0): number {
  for (let i = from; i < logs.length; i++) if (pred(logs[i])) return i;
  return -1;
}

/** The newest pause or resume record, if any. */
function lastFlowChange(logs: readonly LogRecord[]): LogRecord | undefined {
  for (let i = logs.length - 1; i >= 0; i--) if (isFlowChange(logs[i])) return logs[i];
  return undefined;
}

/** Waits until `n` failed-write retries have been logged since the log had `from` records. */
function retriesAfter(p: DiffwatchProcess, from: number, n: number, what: string): Promise<void> {
  return p.waitFor(() => p.logs().slice(from).filter(isRetry).length >= n, { what: `${n} failed InfluxDB writes ${what}` });
}

let proxy: TcpProxy | undefined;

afterEach(async () => {
  await killAllDiffwatch();
  await proxy?.close();
  proxy = undefined;
});

describe('diffwatch run through an InfluxDB outage', () => {
  it('pauses the partition, holds the commit, and loses nothing once InfluxDB is back', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueName('outage-telemetry');
    const anomalies = uniqueName('outage-anomalies');
    const groupId = uniqueName('outage-group');
    const database = uniqueName('outage').replace(/-/g, '_');
    await createTopics(brokers, [topic, anomalies], 1);
    proxy = await startTcpProxy();
    // INFLUX_URL overrides the config file, so the proxy goes there.
    const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: proxy.url, DIFFWATCH_LOG_LEVEL: 'info' };
    const config = writeConfig({
      kafka: { topics: [topic], groupId, commitIntervalMs: 100 },
      ingest: { highWaterMark: HIGH_WATER_MARK, lowWaterMark: 50 },
      stream: { windowLength: WINDOW, hop: 1, entityIdleMs: 1_500 },
      scorer: { kind: 'baseline' },
      detect: { stateTopic: uniqueName('state'), threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 0 } },
      sinks: {
        anomaliesTopic: anomalies,
        influx: { database, batchSize: 100, maxBufferPoints: 300, flushIntervalMs: 50, retryDelayMs: 50, maxRetryDelayMs: 250, timeoutMs: 1_000 },
      },
    });
    const ends = windowEndTimes(FILE, ROWS, WINDOW);
    const expected = new Set(ends).size;
    const influx = influxClient(database);
    const kafka = kafkaClient();
    const admin: Admin = kafka.admin();
    await admin.connect();
    const committed = async () => (await committedOffsets(admin, groupId, topic)).get(0) ?? -1n;

    try {
      // The idle exit must come after the entity's idle expiry has released the final partial
      // window, or the commit stops short of the end. Leave room for kafkajs's fetch wait
      // (maxWaitTimeInMs, 5 s): a partition resumed while every partition was paused is fetched
      // again only after it.
      const run = startDiffwatch(['run', '--config', config, '--until-idle', '10'], env);
      await run.waitForLog((r) => r.msg === 'started', { what: 'the service to start', timeoutMs: 60_000 });

      // 1. Healthy: part of the series flows through and offsets are committed.
      await produceSeries(kafka, { topic, entity: ENTITY, file: FILE, to: BEFORE_OUTAGE });
      await run.waitFor(async () => (await committed()) > 0n, { what: 'a first commit' });

      // 2. InfluxDB hangs (every request times out) while the rest of the series arrives.
      proxy.setMode('blackhole');
      const outageAt = Date.now();
      const outageFrom = run.logs().length;
      await produceSeries(kafka, { topic, entity: ENTITY, file: FILE, from: BEFORE_OUTAGE, to: ROWS });
      const end = (await endOffsets(admin, topic)).get(0);
      expect(end).toBe(BigInt(ROWS));
      await run.waitFor(
        () => lastFlowChange(run.logs())?.msg === 'partition paused' && run.logs().slice(outageFrom).filter(isRetry).length >= 2,
        { what: 'the partition paused while InfluxDB writes fail' },
      );
      const paused = lastFlowChange(run.logs());
      expect(paused).toMatchObject({ topic, partition: 0 });
      expect(paused?.inFlight as number, 'windows in flight when paused').toBeGreaterThan(HIGH_WATER_MARK);
      const heldAt = await committed();

      // 3. InfluxDB refuses connections: still failing, still paused, and the commit stays put.
      proxy.setMode('refuse');
      await retriesAfter(run, run.logs().length, 3, 'after connections are refused');
      expect(lastFlowChange(run.logs())?.msg, 'flow state during the outage').toBe('partition paused');
      expect(await committed(), 'committed offset during the outage').toBe(heldAt);
      expect(heldAt, 'committed offset during the outage vs the end of the topic').toBeLessThan(BigInt(ROWS));
      // As after a crash: the commit passes no reading whose window is not in InfluxDB yet.
      const durable = await scoreTimes(influx, ENTITY);
      expect(durable.size, 'windows durable during the outage').toBeLessThan(expected);
      const firstMissing = ends.findIndex((t) => !durable.has(t));
      expect(heldAt, `committed offset vs the first reading of window ${firstMissing}, the first not in InfluxDB`).toBeLessThanOrEqual(BigInt(firstMissing));
      expect(proxy.accepted.blackhole, 'connections hung by the proxy').toBeGreaterThan(0);
      expect(proxy.accepted.refuse, 'connections refused by the proxy').toBeGreaterThan(0);
      // The outage lasts its full length (the fault's duration, not a synchronisation); meanwhile
      // the service keeps failing, stays paused and commits nothing more.
      await waitUntil(() => Date.now() - outageAt >= OUTAGE_MS, { timeoutMs: OUTAGE_MS + 5_000, intervalMs: 1_000, what: 'the end of the outage' });
      expect(lastFlowChange(run.logs())?.msg, 'flow state at the end of the outage').toBe('partition paused');
      expect(await committed(), 'committed offset at the end of the outage').toBe(heldAt);

      // 4. InfluxDB is back: the partition resumes, everything lands, the service goes idle and exits 0.
      proxy.setMode('pass');
      const restoredAt = Date.now();
      const restoredFrom = run.logs().length;
      const complete = await waitUntil(async () => (await scoreTimes(influx, ENTITY)).size >= expected, { timeoutMs: 60_000, intervalMs: 200, what: 'every window after the outage' }).then(
        () => true,
        () => false,
      );
      const recoveryMs = Date.now() - restoredAt;
      const exit = await exitWithin(run, 60_000, 'diffwatch run after the outage');
      expect(exit.code, exit.stderr.slice(-4000)).toBe(0);
      expect(indexOf(run.logs(), (r) => r.msg === 'partition resumed', restoredFrom), 'a resume after the outage').toBeGreaterThanOrEqual(0);
      const stored = await scoreTimes(influx, ENTITY);
      const stopped = run.logs().find((r) => r.msg === 'stopped')?.metrics;
      const lost = ends.filter((t) => !stored.has(t));
      const extra = [...stored].filter((t) => !ends.includes(t));
      const alerts = await alertIds(kafka, anomalies);
      const dlq = (await readAll(kafka, `${topic}.dlq`)).length;
      report({
        scenario: 'InfluxDB down for 60 s',
        inputMessages: ROWS,
        faults: `InfluxDB hung then refused for ${Math.round((restoredAt - outageAt) / 1000)} s (${proxy.accepted.blackhole} connections hung, ${proxy.accepted.refuse} refused)`,
        windowsExpected: expected,
        windowsScored: stored.size,
        duplicates: extra.length,
        lost: lost.length,
        dlq,
        recoveryMs,
        alertDeliveries: alerts.deliveries,
        alertIdConflicts: alerts.conflicts,
      });
      expect(complete, `every window after the outage: ${describeMissing(ends, stored)}`).toBe(true);
      expect(lost.length, `windows in InfluxDB after the outage: ${describeMissing(ends, stored)}; service metrics ${JSON.stringify(stopped)}`).toBe(0);
      expect(extra.map((t) => new Date(t).toISOString()), 'windows the series does not have').toEqual([]);
      expect(alerts.conflicts, 'alert ids shared by different events').toBe(0);
      expect(dlq, 'dead letters (the series has no bad reading)').toBe(0);
      expect(await committed(), 'committed offset after the outage').toBe(end);
    } finally {
      await admin.disconnect();
    }
  });
});
