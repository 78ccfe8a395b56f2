/**
 * At-least-once across a crash: `diffwatch run` is killed with SIGKILL in the middle of a NAB
 * series (no shutdown, no final commit), then restarted with the same group. The committed
 * offset at the kill must not pass any reading whose window is not durable yet, and after the
 * restart InfluxDB must hold exactly the windows of the series (none lost, none the series does
 * not have) and the offsets must reach the end.
 */
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, uniqueName, waitUntil } from '../integration/helpers.ts';
import {
  NAB, committedOffsets, countScores, describeMissing, endOffsets, exitWithin, influxClient, killAllDiffwatch, runDiffwatch, scoreTimes, startDiffwatch, windowEndTimes,
  writeConfig,
} from '../integration/service/runHelpers.ts';
import { alertIds, readAll, report } from './faultHelpers.ts';

const WINDOW = 32;
const ROWS = 8_000;
const FILE = join(NAB, 'machine_temperature_system_failure.csv');
const ENTITY = 'machine-temp';

afterEach(killAllDiffwatch);

describe('diffwatch run, killed with SIGKILL mid-stream', () => {
  it('commits only what is durable, and a restart completes every window and commits to the end', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueName('crash-telemetry');
    const anomalies = uniqueName('crash-anomalies');
    const groupId = uniqueName('crash-group');
    const database = uniqueName('crash').replace(/-/g, '_');
    await createTopics(brokers, [topic, anomalies], 1);
    const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'warn' };

    const replay = await runDiffwatch(['replay', '--file', FILE, '--topic', topic, '--entity', ENTITY, '--limit', String(ROWS)], env);
    expect(replay.code, replay.stderr).toBe(0);

    const ends = windowEndTimes(FILE, ROWS, WINDOW);
    // Distinct end times are what InfluxDB can hold (a point's identity is its timestamp).
    const expected = new Set(ends).size;
    expect(expected).toBe(ROWS - WINDOW + 1);

    const config = writeConfig({
      // The killed member never leaves the group; the restarted one can only join once the broker
      // has evicted it, so the session timeout is the broker's minimum instead of 30 s.
      kafka: { topics: [topic], groupId, commitIntervalMs: 100, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 },
      stream: { windowLength: WINDOW, hop: 1, entityIdleMs: 1_500 },
      scorer: { kind: 'baseline' },
      detect: { stateTopic: uniqueName('state'), threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 0 } },
      // Small requests stretch the run over many writes, so the kill lands between two of them.
      sinks: { anomaliesTopic: anomalies, influx: { database, batchSize: 200, maxBufferPoints: 400, flushIntervalMs: 50 } },
    });
    const influx = influxClient(database);
    const kafka = kafkaClient();
    const admin: Admin = kafka.admin();
    await admin.connect();
    try {
      // 1. Run until part of the series is durable and committed, then kill without warning.
      const first = startDiffwatch(['run', '--config', config], env);
      await first.waitFor(
        async () => (await countScores(influx, ENTITY).catch(() => 0)) > 0 && ((await committedOffsets(admin, groupId, topic)).get(0) ?? -1n) > 0n,
        { what: 'some windows durable and an offset committed', timeoutMs: 60_000, intervalMs: 20 },
      );
      first.kill('SIGKILL');
      const killed = await first.exited;
      expect(killed.signal, killed.stderr.slice(-4000)).toBe('SIGKILL');

      // 2. The kill really happened mid-stream, and the commit passed no reading still needed.
      // Read InfluxDB after the commit: it can only hold more, so the first missing window found
      // now is at or after the first one missing when that offset was committed.
      const atKill = (await committedOffsets(admin, groupId, topic)).get(0) ?? -1n;
      const stored = await scoreTimes(influx, ENTITY);
      expect(stored.size, 'windows durable at the kill').toBeLessThan(expected);
      expect(atKill, 'committed offset at the kill').toBeLessThan(BigInt(ROWS));
      const firstMissing = ends.findIndex((t) => !stored.has(t));
      expect(firstMissing).toBeGreaterThanOrEqual(0);
      // Window k covers rows k .. k+L-1 and row r is at offset r; row k is only done with window k.
      expect(atKill, `committed offset vs the first reading of window ${firstMissing}, the first not in InfluxDB`).toBeLessThanOrEqual(BigInt(firstMissing));

      // 3. Restart with the same group: it resumes from the commit and finishes the series.
      const killedAt = Date.now();
      const second = startDiffwatch(['run', '--config', config, '--until-idle', '4'], env);
      const complete = await waitUntil(async () => (await countScores(influx, ENTITY).catch(() => 0)) >= expected, { timeoutMs: 90_000, intervalMs: 100, what: 'every window after the restart' }).then(
        () => true,
        () => false,
      );
      const recoveryMs = Date.now() - killedAt;
      const exit = await exitWithin(second, 60_000, 'the restarted diffwatch run');
      expect(exit.code, exit.stderr.slice(-4000)).toBe(0);
      const after = await scoreTimes(influx, ENTITY);
      const lost = ends.filter((t) => !after.has(t));
      const extra = [...after].filter((t) => !ends.includes(t));
      const alerts = await alertIds(kafka, anomalies);
      const dlq = (await readAll(kafka, `${topic}.dlq`)).length;
      report({
        scenario: 'kill -9 mid-stream',
        inputMessages: ROWS,
        faults: `SIGKILL after ${stored.size} windows durable (offset ${atKill} committed), restart`,
        windowsExpected: expected,
        windowsScored: after.size,
        duplicates: extra.length,
        lost: new Set(lost).size,
        dlq,
        recoveryMs,
        alertDeliveries: alerts.deliveries,
        alertIdConflicts: alerts.conflicts,
      });
      expect(complete, `every window after the restart: ${describeMissing(ends, after)}`).toBe(true);
      expect(lost, `windows in InfluxDB after the restart: ${describeMissing(ends, after)}`).toEqual([]);
      expect(extra.map((t) => new Date(t).toISOString()), 'windows the series does not have').toEqual([]);
      expect(alerts.conflicts, 'alert ids shared by different events').toBe(0);
      expect(dlq, 'dead letters (the series has no bad reading)').toBe(0);
      const end = (await endOffsets(admin, topic)).get(0);
      expect(end).toBe(BigInt(ROWS));
      expect((await committedOffsets(admin, groupId, topic)).get(0), 'committed offset after the restart').toBe(end);
    } finally {
      await admin.disconnect();
    }
  });
});
