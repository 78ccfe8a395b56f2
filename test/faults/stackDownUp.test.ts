/**
 * `stack down && up` mid-stream: `diffwatch run` reads from a private stack (its own folder and
 * ports, never the shared one), which is stopped and started again through the stack's own
 * `stackDown` and `stackUp` on the same `stack.dir`, broker and InfluxDB both, while windows are
 * being scored. The service must ride it out and InfluxDB must then hold exactly the windows of
 * the data.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stackDown, stackUp } from '../../src/stack/stack.ts';
import { rootLogger } from '../../src/log.ts';
import { privateStack, type PrivateStack } from '../integration/ops/privateStack.ts';
import { createTopics, kafkaClient } from '../integration/helpers.ts';
import { killAllDiffwatch, startDiffwatch, type DiffwatchProcess } from '../integration/service/runHelpers.ts';
import { alertIds, compareWindows, expectedWindows, produceReadings, readAll, report, sample, storedCount, storedWindows, windowFigures, type Input } from './faultHelpers.ts';
import { names, saveLogs, scenarioConfig, stopCleanly, untilCommittedToEnd, untilStored } from './instances.ts';

const INPUT: Input = { entities: 600, readings: 60, channels: ['cpu', 'mem', 'net'], window: 32 };
/**
 * Longer than any pause of an entity's input while the broker is up. With 4 s one run in five lost the last 15 windows of every entity of a partition
 * (79 entities, 1,185 windows): that partition was read to its end more than 4 s before the stack
 * went down, so its entities expired as idle with the broker still up (as configured), and the 15
 * readings after the restart could not fill a new window of 32. Buffers outliving an outage
 * longer than `entityIdleMs` is brokerRestart.test.ts's check; this one is the stack's own restart.
 */
const ENTITY_IDLE_MS = 15_000;

let stack: PrivateStack;
const started: DiffwatchProcess[] = [];
const log = rootLogger.namespace('private-stack');

beforeAll(async () => {
  stack = await privateStack();
  await stackUp(stack.stack, log);
});

afterAll(async () => {
  await stack?.destroy();
});

afterEach(async () => {
  saveLogs('stack-down-up', started);
  started.length = 0;
  await killAllDiffwatch();
});

describe('stack down && up mid-stream', () => {
  it('recovers after the stack comes back on its data directory and writes exactly the windows of the data', async () => {
    const n = names('faults-stackdownup');
    await createTopics(stack.brokers, [n.topic], 3);
    await createTopics(stack.brokers, [n.anomalies], 1);
    const kafka = kafkaClient({ brokers: stack.brokers });
    const url = stack.influxUrl;
    const env = { KAFKA_BROKERS: stack.brokers.join(','), INFLUX_URL: url, DIFFWATCH_LOG_LEVEL: 'info' };
    const expected = expectedWindows(INPUT);

    // 1. Part of the input flows through.
    let produced = await produceReadings(kafka, n.topic, INPUT, { from: 0, to: 45 });
    const run = startDiffwatch(['run', '--config', scenarioConfig(n, INPUT, { entityIdleMs: ENTITY_IDLE_MS })], env);
    started.push(run);
    await untilStored(n.database, 300, 'before the stack goes down', 120_000, url);

    // 2. down && up on the same folder.
    const before = await storedCount(n.database, url);
    const downAt = Date.now();
    const { stopped } = await stackDown(stack.stack, {}, log);
    const downMs = Date.now() - downAt;
    await stackUp(stack.stack, log);
    const backAt = Date.now();

    // 3. The rest of the input arrives; everything must land.
    produced += await produceReadings(kafka, n.topic, INPUT, { from: 45, to: INPUT.readings });
    const complete = await untilStored(n.database, expected.size, 'after stack down && up', 150_000, url).then(() => true, () => false);
    const recoveryMs = Date.now() - backAt;
    if (complete) {
      await untilCommittedToEnd(kafka, n, 120_000);
      await stopCleanly(run, 'diffwatch run');
    }

    const diff = compareWindows(expected, await storedWindows(n.database, url));
    const alerts = await alertIds(kafka, n.anomalies);
    const dlq = (await readAll(kafka, `${n.topic}.dlq`)).length;
    report({
      scenario: 'stack down && up mid-stream',
      inputMessages: produced,
      faults: `stack down (${stopped.join(', ')}) after ${before} windows, up on the same folder (down ${Math.round((backAt - downAt) / 1000)} s: down ${Math.round(downMs / 1000)} s + up ${Math.round((backAt - downAt - downMs) / 1000)} s)`,
      ...windowFigures(diff),
      dlq,
      recoveryMs,
      alertDeliveries: alerts.deliveries,
      alertIdConflicts: alerts.conflicts,
    });
    expect(diff.lost.length, `windows lost: ${sample(diff.lost)}`).toBe(0);
    expect(complete, 'every window stored in time').toBe(true);
    expect(diff.extra.length, `windows that the data does not have: ${sample(diff.extra)}`).toBe(0);
    expect(alerts.conflicts, 'alert ids shared by different events').toBe(0);
    expect(dlq, 'dead letters (the input has no bad message)').toBe(0);
  });
});
