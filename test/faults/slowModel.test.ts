/**
 * A model call slower than the session timeout: the service runs in-process with a scorer (the
 * baseline, wrapped) whose calls 4 to 6 each take longer than `kafka.sessionTimeoutMs`, as a
 * diffusion model on a loaded worker thread may. Scoring is awaited off the consumer's batch
 * handler, so the consumer keeps fetching and heartbeating while a call runs: the member must
 * stay in the group (one join, no rebalance, the same member id throughout) and InfluxDB must
 * then hold exactly the windows of the data.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.ts';
import { rootLogger, setLogSink } from '../../src/log.ts';
import { createBaselineScorer } from '../../src/model/baselineScorer.ts';
import { startService, type Service } from '../../src/service/pipeline.ts';
import type { Scorer } from '../../src/types.ts';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, waitUntil } from '../integration/helpers.ts';
import { ROOT } from '../integration/service/runHelpers.ts';
import { alertIds, compareWindows, expectedWindows, produceReadings, readAll, report, sample, storedWindows, windowFigures, type Input } from './faultHelpers.ts';
import { names, scenarioConfig, untilCommittedToEnd, untilStored } from './instances.ts';

const INPUT: Input = { entities: 300, readings: 60, channels: ['cpu', 'mem', 'net'], window: 32 };
const SESSION_TIMEOUT_MS = 6_000;
/** Each slow call: longer than the session timeout by half of it. */
const SLOW_MS = 9_000;
/** Which calls (0-based) are slow: a few, once scoring is under way. */
const SLOW_CALLS = new Set([3, 4, 5]);

let service: Service | undefined;
const lines: string[] = [];
let restoreSink: ((line: string) => void) | undefined;

afterEach(async () => {
  if (restoreSink) setLogSink(restoreSink);
  restoreSink = undefined;
  const dir = join(ROOT, 'out/faults');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'slow-model-0.log'), lines.join('\n') + '\n');
  lines.length = 0;
  await service?.stop('test over').catch(() => undefined);
  service = undefined;
});

/** The baseline, with the given calls held for `SLOW_MS` first (a timer: the event loop stays free, as with a worker thread). */
function slowScorer(inner: Scorer, calls: { started: number; ms: number }[]): Scorer {
  let n = 0;
  return {
    name: inner.name,
    version: inner.version,
    async score(windows) {
      const i = n++;
      const started = Date.now();
      if (SLOW_CALLS.has(i)) await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
      const out = await inner.score(windows);
      if (SLOW_CALLS.has(i)) calls.push({ started, ms: Date.now() - started });
      return out;
    },
  };
}

describe('a model call slower than the session timeout', () => {
  it('keeps the member in the group (no rebalance) and writes exactly the windows of the data', async () => {
    const brokers = kafkaBrokers();
    const n = names('faults-slowmodel');
    await createTopics(brokers, [n.topic], 3);
    await createTopics(brokers, [n.anomalies], 1);
    const kafka = kafkaClient();
    const expected = expectedWindows(INPUT);
    // The suite's scenario config (retention INF, so 2020 points are kept) with a short session.
    const file = scenarioConfig(n, INPUT, { kafka: { sessionTimeoutMs: SESSION_TIMEOUT_MS, heartbeatIntervalMs: 1_000 } });
    const cfg = loadConfig({ file, env: { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl() }, overrides: { ops: { http: { enabled: false } } } });
    const slow: { started: number; ms: number }[] = [];
    restoreSink = setLogSink((line) => void lines.push(line));
    const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const joins = () => records().filter((r) => r.msg === 'group joined');

    const produced = await produceReadings(kafka, n.topic, INPUT, { from: 0, to: INPUT.readings });
    const startedAt = Date.now();
    service = await startService(cfg, { log: rootLogger.namespace('slow-model'), scorer: slowScorer(createBaselineScorer(cfg.scorer.baseline), slow) });
    await waitUntil(() => joins().length >= 1, { timeoutMs: 60_000, what: 'the group joined' });
    const memberId = joins()[0]!.memberId as string;

    // While the slow calls run, the broker must keep the member: probe the group every 500 ms.
    const admin = kafka.admin();
    await admin.connect();
    let probes = 0;
    const membership = new Set<string>();
    try {
      await waitUntil(
        async () => {
          const [g] = (await admin.describeGroups([n.groupId])).groups;
          probes++;
          membership.add(`${g?.state}:${g?.members.map((m) => m.memberId).join(',')}`);
          return slow.length >= SLOW_CALLS.size;
        },
        { timeoutMs: 120_000, intervalMs: 500, what: `${SLOW_CALLS.size} slow model calls done` },
      );
    } finally {
      await admin.disconnect();
    }
    const slowDoneAt = Date.now();

    const complete = await untilStored(n.database, expected.size, 'after the slow calls', 90_000).then(() => true, () => false);
    const recoveryMs = Date.now() - slowDoneAt;
    if (complete) await untilCommittedToEnd(kafka, n);
    await service.stop('scenario over');
    await service.done;
    service = undefined;

    const diff = compareWindows(expected, await storedWindows(n.database));
    const alerts = await alertIds(kafka, n.anomalies);
    const dlq = (await readAll(kafka, `${n.topic}.dlq`)).length;
    const groupJoins = joins().length;
    const revoked = records().filter((r) => r.msg === 'partitions revoked').length;
    report({
      scenario: 'model call slower than the session timeout',
      inputMessages: produced,
      faults: `${slow.length} model calls of ${slow.map((c) => (c.ms / 1000).toFixed(1)).join(', ')} s (session timeout ${SESSION_TIMEOUT_MS / 1000} s)`,
      ...windowFigures(diff),
      dlq,
      recoveryMs,
      groupJoins,
      partitionsRevoked: revoked,
      groupProbes: probes,
      groupStates: [...membership],
      runMs: Date.now() - startedAt,
      alertDeliveries: alerts.deliveries,
      alertIdConflicts: alerts.conflicts,
    });
    expect(Math.min(...slow.map((c) => c.ms)), 'each slow call outlasts the session timeout').toBeGreaterThan(SESSION_TIMEOUT_MS);
    expect(groupJoins, 'group joins (the initial one only)').toBe(1);
    expect(revoked, 'partitions revoked (a rebalance)').toBe(0);
    expect([...membership], 'group state and members while the slow calls ran').toEqual([`Stable:${memberId}`]);
    expect(diff.lost.length, `windows lost: ${sample(diff.lost)}`).toBe(0);
    expect(complete, 'every window stored in time').toBe(true);
    expect(diff.extra.length, `windows that the data does not have: ${sample(diff.extra)}`).toBe(0);
    expect(alerts.conflicts, 'alert ids shared by different events').toBe(0);
    expect(dlq, 'dead letters (the input has no bad message)').toBe(0);
  });
});
