/**
 * A consumer that kafkajs will not restart ends the service: `diffwatch run` exits 1 with
 * CONSUMER_FAILED instead of staying up with nothing to read. Provoked for real: another member
 * already holds the group with an assignment protocol of its own, so the broker refuses our join
 * with INCONSISTENT_GROUP_PROTOCOL, an error kafkajs does not retry.
 */
import { PartitionAssigners, type PartitionAssigner } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, uniqueName } from '../helpers.ts';
import { exitWithin, killAllDiffwatch, startDiffwatch, writeConfig } from './runHelpers.ts';

/** Round robin under another name: a group member of some other application. */
const foreignAssigner: PartitionAssigner = (cfg) => {
  const rr = PartitionAssigners.roundRobin(cfg);
  return { ...rr, name: 'OtherApplicationAssigner', protocol: (s) => ({ ...rr.protocol(s), name: 'OtherApplicationAssigner' }) };
};

afterEach(killAllDiffwatch);

describe('diffwatch run, a consumer kafkajs will not restart', () => {
  it('exits 1 with CONSUMER_FAILED, naming the group and the broker error', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueName('cfail-telemetry');
    const groupId = uniqueName('cfail-group');
    await createTopics(brokers, [topic], 1);
    const foreign = kafkaClient({ brokers }).consumer({ groupId, partitionAssigners: [foreignAssigner] });
    const joined = new Promise<void>((resolve) => foreign.on(foreign.events.GROUP_JOIN, () => resolve()));
    await foreign.connect();
    await foreign.subscribe({ topics: [topic] });
    await foreign.run({ eachMessage: async () => undefined });
    await joined;
    try {
      const config = writeConfig({
        kafka: { topics: [topic], groupId },
        stream: { windowLength: 32, hop: 1 },
        scorer: { kind: 'baseline' },
        detect: { stateTopic: uniqueName('state'), threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 0 } },
        sinks: { anomaliesTopic: uniqueName('cfail-anomalies'), influx: { database: uniqueName('cfail').replace(/-/g, '_') } },
      });
      const service = startDiffwatch(['run', '--config', config], { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'info' });
      const exit = await exitWithin(service, 60_000, 'diffwatch run with a consumer that cannot join');
      expect(exit.code, exit.stderr.slice(-4000)).toBe(1);
      expect(service.logs().find((r) => r.msg === 'consumer failed')?.error, 'a "consumer failed" log line').toMatchObject({ code: 'CONSUMER_FAILED' });
      // The error the process exits with, as `main` logs it: code and coordinates.
      const last = service.logs().find((r) => r.code === 'CONSUMER_FAILED' && r.level === 'error' && r.groupId !== undefined);
      expect(last, exit.stderr.slice(-4000)).toMatchObject({ groupId, kafkaError: expect.stringMatching(/^KafkaJS/) });
      expect(String(last?.msg)).toMatch(/incompatible with those of existing members/);
      expect(service.logs().some((r) => r.msg === 'stopped'), 'the service stopped through its shutdown').toBe(true);
    } finally {
      await foreign.disconnect();
    }
  });
});
