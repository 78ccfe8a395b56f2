/**
 * Broker restart mid-stream: `diffwatch run` reads from a private single-node Kafka (its own
 * folder and ports, never the shared one), which is stopped while windows are being scored and
 * started again on the same data directory. The service must ride it out (kafkajs reconnects,
 * the group is joined again, partitions are re-read from the committed offsets) and InfluxDB
 * must then hold exactly the windows of the data.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { privateStack, type PrivateStack } from '../integration/ops/privateStack.ts';
import { createTopics, influxUrl, kafkaClient } from '../integration/helpers.ts';
import { killAllDiffwatch, startDiffwatch, type DiffwatchProcess } from '../integration/service/runHelpers.ts';
import { alertIds, compareWindows, expectedWindows, produceReadings, readAll, report, sample, storedCount, storedWindows, windowFigures, type Input } from './faultHelpers.ts';
import { names, saveLogs, scenarioConfig, stopCleanly, untilCommittedToEnd, untilStored } from './instances.ts';

const INPUT: Input = { entities: 600, readings: 60, channels: ['cpu', 'mem', 'net'], window: 32 };
/**
 * Shorter than the broker's absence: an entity silent because nothing can be fetched is not
 * idle, so its buffer must survive the restart (its windows across the outage would be lost).
 * Long enough that no entity goes idle legitimately before the stop: a partition read to its end
 * more than this before the broker stops expires its entities with the broker still up (as
 * configured), and the 15 readings after the restart cannot fill a new window. With 4 s that
 * race lost the last 15 windows of 79 entities in one run of five of the sibling scenario.
 */
const ENTITY_IDLE_MS = 15_000;
/** How long the broker stays down, at least: the fault, longer than the idle hold. */
const OUTAGE_MS = ENTITY_IDLE_MS + 5_000;

let stack: PrivateStack;
const started: DiffwatchProcess[] = [];

beforeAll(async () => {
  stack = await privateStack();
  await stack.startKafka();
});

afterAll(async () => {
  await stack?.destroy();
});

afterEach(async () => {
  saveLogs('broker-restart', started);
  started.length = 0;
  await killAllDiffwatch();
});

describe('broker restart mid-stream', () => {
  it('recovers after the broker comes back and writes exactly the windows of the data', async () => {
    const n = names('faults-broker');
    await createTopics(stack.brokers, [n.topic], 3);
    await createTopics(stack.brokers, [n.anomalies], 1);
    const kafka = kafkaClient({ brokers: stack.brokers });
    const env = { KAFKA_BROKERS: stack.brokers.join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'info' };
    const expected = expectedWindows(INPUT);

    // 1. Part of the input flows through.
    let produced = await produceReadings(kafka, n.topic, INPUT, { from: 0, to: 45 });
    const run = startDiffwatch(['run', '--config', scenarioConfig(n, INPUT, { entityIdleMs: ENTITY_IDLE_MS })], env);
    started.push(run);
    await untilStored(n.database, 300, 'before the broker stops');

    // 2. The broker stops mid-stream and starts again on the same data directory.
    const stoppedAt = Date.now();
    const before = await storedCount(n.database);
    await stack.stopKafka();
    const downMs = Date.now() - stoppedAt;
    await holdOutage(OUTAGE_MS - downMs);
    await stack.startKafka();
    const backAt = Date.now();

    // 3. The rest of the input arrives; everything must land.
    produced += await produceReadings(kafka, n.topic, INPUT, { from: 45, to: INPUT.readings });
    const complete = await untilStored(n.database, expected.size, 'after the broker restart', 150_000).then(() => true, () => false);
    const recoveryMs = Date.now() - backAt;
    if (complete) {
      await untilCommittedToEnd(kafka, n, 120_000);
      await stopCleanly(run, 'diffwatch run');
    }

    const diff = compareWindows(expected, await storedWindows(n.database));
    const alerts = await alertIds(kafka, n.anomalies);
    const dlq = (await readAll(kafka, `${n.topic}.dlq`)).length;
    report({
      scenario: 'broker restart mid-stream',
      inputMessages: produced,
      faults: `broker stopped after ${before} windows, down ${Math.round((backAt - stoppedAt) / 1000)} s (stop ${Math.round(downMs / 1000)} s); entityIdleMs ${ENTITY_IDLE_MS}`,
      ...windowFigures(diff),
      dlq,
      recoveryMs,
      alertDeliveries: alerts.deliveries,
      alertIdConflicts: alerts.conflicts,
    });
    // What the service reported beyond the expected refusals while the broker was away: enough to tell a failed run's cause from CI's output.
    const errors = run.logs().filter((r) => r.level === 'error' && !/ECONNREFUSED/.test(String(r.msg))).slice(-10).map((r) => `${String(r.time)} ${String(r.ns)}: ${String(r.msg)}`);
    const why = `\nthe service's last errors:\n${errors.join('\n')}\nexit code: ${String(run.child.exitCode)}`;
    expect(diff.lost, `windows lost: ${sample(diff.lost)}${why}`).toEqual([]);
    expect(complete, `every window stored in time${why}`).toBe(true);
    expect(diff.extra, `windows that the data does not have: ${sample(diff.extra)}`).toEqual([]);
    expect(alerts.conflicts, 'alert ids shared by different events').toBe(0);
    expect(dlq, 'dead letters (the input has no bad message)').toBe(0);
  });
});

/** Keeps the broker down for the rest of the outage: the length of the fault, not a wait for a state. */
async function holdOutage(ms: number): Promise<void> {
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}
