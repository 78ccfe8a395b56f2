/**
 * SIGTERM mid-stream: `diffwatch run` stops fetching, drains what is in flight, flushes the
 * sinks, commits and exits 0. After the exit, the committed offset must be exactly the first
 * reading still held in an open window: everything before it is durable, nothing after it is
 * claimed.
 */
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, uniqueName } from '../helpers.ts';
import { NAB, committedOffsets, countScores, influxClient, killAllDiffwatch, runDiffwatch, startDiffwatch, writeConfig } from './runHelpers.ts';

const WINDOW = 32;
const ROWS = 8_000;
const FILE = join(NAB, 'machine_temperature_system_failure.csv');
const ENTITY = 'machine-temp';

afterEach(killAllDiffwatch);

describe('diffwatch run, stopped with SIGTERM mid-stream', () => {
  it('drains, flushes and commits exactly up to the oldest reading still in an open window, then exits 0', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueName('term-telemetry');
    const anomalies = uniqueName('term-anomalies');
    const groupId = uniqueName('term-group');
    const database = uniqueName('term').replace(/-/g, '_');
    await createTopics(brokers, [topic, anomalies], 1);
    const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'info' };
    const replay = await runDiffwatch(['replay', '--file', FILE, '--topic', topic, '--entity', ENTITY, '--limit', String(ROWS)], env);
    expect(replay.code, replay.stderr).toBe(0);

    const config = writeConfig({
      // Small fetches, so that stopping the fetches leaves most of the topic unread.
      kafka: { topics: [topic], groupId, commitIntervalMs: 100, maxBytesPerPartition: 2_048 },
      // A long idle expiry: the open window must still be open when the service stops.
      stream: { windowLength: WINDOW, hop: 1, entityIdleMs: 600_000 },
      scorer: { kind: 'baseline' },
      detect: { stateTopic: uniqueName('state'), threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 0 } },
      // Small requests stretch the run over many writes, so the signal lands mid-stream.
      sinks: { anomaliesTopic: anomalies, influx: { database, batchSize: 200, maxBufferPoints: 400, flushIntervalMs: 50 } },
    });
    const influx = influxClient(database);
    const admin: Admin = kafkaClient().admin();
    await admin.connect();
    try {
      const service = startDiffwatch(['run', '--config', config], env);
      await service.waitFor(async () => (await countScores(influx, ENTITY).catch(() => 0)) > 0, { what: 'some windows durable', timeoutMs: 60_000, intervalMs: 20 });
      service.kill('SIGTERM');
      const exit = await service.exited;
      expect(exit.code, exit.stderr.slice(-4000)).toBe(0);
      expect(service.logs().some((r) => r.msg === 'stopped'), 'a "stopped" log line').toBe(true);

      // Every fetched reading went into windows at once (hop 1), and everything in flight was
      // drained, so S windows are durable and they end at rows L-1 .. L+S-2. The oldest reading
      // still needed by the next window is row S: that is the committed offset, exactly.
      const scored = await countScores(influx, ENTITY);
      expect(scored, 'the signal landed mid-stream').toBeLessThan(ROWS - WINDOW + 1);
      const committed = (await committedOffsets(admin, groupId, topic)).get(0);
      expect(committed, `committed offset with ${scored} windows durable`).toBe(BigInt(scored));
    } finally {
      await admin.disconnect();
    }
  });
});
