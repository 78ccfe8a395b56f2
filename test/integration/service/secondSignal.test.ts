/**
 * A second SIGTERM while `diffwatch run` drains: it exits at once with 143 (README, CLI), instead
 * of waiting for a drain that InfluxDB, hung behind a proxy, would hold up for the whole drain timeout.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTopics, kafkaBrokers, uniqueName } from '../helpers.ts';
import { NAB, countScores, exitWithin, influxClient, killAllDiffwatch, runDiffwatch, startDiffwatch, startTcpProxy, writeConfig } from './runHelpers.ts';

const FILE = join(NAB, 'machine_temperature_system_failure.csv');
const ENTITY = 'machine-temp';
/** Far below the drain's 30 s timeout and the sink's 60 s request timeout below. */
const PROMPT_EXIT_MS = 5_000;

afterEach(killAllDiffwatch);

describe('diffwatch run, a second SIGTERM while draining', () => {
  it('exits at once with 143', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueName('sig2-telemetry');
    const database = uniqueName('sig2').replace(/-/g, '_');
    await createTopics(brokers, [topic], 1);
    const proxy = await startTcpProxy();
    try {
      const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: proxy.url, DIFFWATCH_LOG_LEVEL: 'info' };
      const replay = await runDiffwatch(['replay', '--file', FILE, '--topic', topic, '--entity', ENTITY, '--limit', '8000'], env);
      expect(replay.code, replay.stderr).toBe(0);
      const config = writeConfig({
        kafka: { topics: [topic], groupId: uniqueName('sig2-group'), commitIntervalMs: 100, maxBytesPerPartition: 2_048 },
        stream: { windowLength: 32, hop: 1 },
        scorer: { kind: 'baseline' },
        detect: { stateTopic: uniqueName('state'), threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 0 } },
        sinks: { anomaliesTopic: uniqueName('sig2-anomalies'), influx: { database, batchSize: 200, maxBufferPoints: 400, flushIntervalMs: 50, timeoutMs: 60_000 } },
      });
      const service = startDiffwatch(['run', '--config', config], env);
      await service.waitFor(async () => (await countScores(influxClient(database), ENTITY).catch(() => 0)) > 0, { what: 'some windows durable', timeoutMs: 60_000, intervalMs: 20 });
      // InfluxDB hangs: the writes in flight never complete, so the drain would wait for its timeout.
      proxy.setMode('blackhole');
      service.kill('SIGTERM');
      await service.waitForLog((r) => r.msg === 'stopping', { what: 'a "stopping" log line' });
      const sentAt = Date.now();
      service.kill('SIGTERM');
      const exit = await exitWithin(service, PROMPT_EXIT_MS, 'diffwatch run after a second SIGTERM');
      expect(exit.code, exit.stderr.slice(-4000)).toBe(143);
      expect(Date.now() - sentAt).toBeLessThan(PROMPT_EXIT_MS);
      expect(service.logs().some((r) => r.msg === 'stopped'), 'no "stopped" line: it did not finish draining').toBe(false);
    } finally {
      await proxy.close();
    }
  });
});
