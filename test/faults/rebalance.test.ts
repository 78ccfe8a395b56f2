/**
 * Rebalances while running: `diffwatch run` instances of one group on a 6-partition topic join
 * and leave mid-stream (1 → 2 → 3 members, then one leaves), while the input is still arriving.
 * Every move re-reads partitions from their committed offsets, on the new owner and on the
 * members that keep theirs. InfluxDB must then hold exactly the windows of the data: none
 * missing, none that the data does not have (such as a window built from a buffer holding a
 * re-delivered reading twice, which ends one step before the entity's first possible window).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient } from '../integration/helpers.ts';
import { exitWithin, killAllDiffwatch, startDiffwatch, type DiffwatchProcess } from '../integration/service/runHelpers.ts';
import { alertIds, compareWindows, expectedWindows, produceReadings, readAll, report, sample, storedCount, storedWindows, windowFigures, type Input } from './faultHelpers.ts';
import { joined, metricOf, names, saveLogs, scenarioConfig, stopCleanly, stoppedCounter, untilCommittedToEnd, untilStored } from './instances.ts';

const INPUT: Input = { entities: 1_200, readings: 60, channels: ['cpu', 'mem', 'net'], window: 32 };
/** The reported case, scaled to 2 cores: 4 partitions, a second member joins and leaves again. */
const JOIN_LEAVE: Input = { entities: 1_000, readings: 60, channels: ['cpu', 'mem', 'net'], window: 32 };

const started: DiffwatchProcess[] = [];

afterEach(async () => {
  saveLogs('rebalance', started);
  started.length = 0;
  await killAllDiffwatch();
});

describe('rebalances while running', () => {
  it('writes exactly the windows of the data while members join and leave', async () => {
    const brokers = kafkaBrokers();
    const n = names('faults-rebalance');
    await createTopics(brokers, [n.topic], 6);
    await createTopics(brokers, [n.anomalies], 1);
    const kafka = kafkaClient();
    const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'info' };
    const config = scenarioConfig(n, INPUT);
    const expected = expectedWindows(INPUT);
    const start = () => {
      const p = startDiffwatch(['run', '--config', config], env);
      started.push(p);
      return p;
    };

    // 1. One member, the first part of the input: the first windows of every entity.
    let produced = await produceReadings(kafka, n.topic, INPUT, { from: 0, to: 36 });
    const a = start();
    await joined(a, 'a joins');
    await untilStored(n.database, 500, 'a alone');

    // 2. A second member joins mid-stream, then more input.
    const b = start();
    await joined(b, 'b joins');
    let rebalances = 1;
    produced += await produceReadings(kafka, n.topic, INPUT, { from: 36, to: 48 });
    await untilStored(n.database, (await storedCount(n.database)) + 500, 'a and b');

    // 3. A third member joins, the rest of the input arrives, and the second member leaves.
    const c = start();
    await joined(c, 'c joins');
    rebalances++;
    produced += await produceReadings(kafka, n.topic, INPUT, { from: 48, to: INPUT.readings });
    await untilStored(n.database, (await storedCount(n.database)) + 500, 'a, b and c');
    await stopCleanly(b, 'b leaving the group');
    rebalances++;
    const lastFault = Date.now();

    // 4. The remaining members finish: every window stored, every offset committed.
    // On a timeout the figures are still printed: which windows are missing or extra says why.
    const complete = await untilStored(n.database, expected.size, 'after b left', 90_000).then(() => true, () => false);
    const recoveryMs = Date.now() - lastFault;
    if (complete) {
      await untilCommittedToEnd(kafka, n);
      await Promise.all([stopCleanly(a, 'a'), stopCleanly(c, 'c')]);
    }

    const diff = compareWindows(expected, await storedWindows(n.database));
    const alerts = await alertIds(kafka, n.anomalies);
    const dlq = (await readAll(kafka, `${n.topic}.dlq`)).length;
    report({
      scenario: 'rebalances while running',
      inputMessages: produced,
      faults: `${rebalances} rebalances (1→2→3→2 members, 6 partitions)`,
      ...windowFigures(diff),
      dlq,
      recoveryMs,
      windowsScoredByInstances: stoppedCounter([a, b, c], 'diffwatch_windows_scored_total'),
      alertDeliveries: alerts.deliveries,
      alertIdConflicts: alerts.conflicts,
    });
    expect(diff.lost, `windows lost: ${sample(diff.lost)}`).toEqual([]);
    expect(complete, 'every window stored in time').toBe(true);
    expect(diff.extra, `windows that the data does not have: ${sample(diff.extra)}`).toEqual([]);
    expect(alerts.conflicts, 'alert ids shared by different events').toBe(0);
    expect(dlq, 'dead letters (the input has no bad message)').toBe(0);
  });

  it('a member joining and leaving on 4 partitions ([0,1,2,3] → [0,2]/[1,3] → [0,1,2,3]) adds no window', async () => {
    const brokers = kafkaBrokers();
    const n = names('faults-joinleave');
    await createTopics(brokers, [n.topic], 4);
    await createTopics(brokers, [n.anomalies], 1);
    const kafka = kafkaClient();
    const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'info' };
    const config = scenarioConfig(n, JOIN_LEAVE);
    const expected = expectedWindows(JOIN_LEAVE);
    // The second member joins while every entity is still filling its first window, as reported:
    // 20 of the 32 readings of the first window are in, the rest arrives once both are in the group.
    let produced = await produceReadings(kafka, n.topic, JOIN_LEAVE, { from: 0, to: 20 });
    const a = startDiffwatch(['run', '--config', config, '--until-idle', '15'], env);
    started.push(a);
    await joined(a, 'a joins');
    await a.waitFor(async () => (await metricOf(a, 'diffwatch_readings_decoded_total')) >= produced, { what: 'a has read the first 20 minutes' });
    const b = startDiffwatch(['run', '--config', config], env);
    started.push(b);
    await joined(b, 'b joins');
    produced += await produceReadings(kafka, n.topic, JOIN_LEAVE, { from: 20, to: JOIN_LEAVE.readings });
    await untilStored(n.database, (await storedCount(n.database)) + 300, 'a and b');
    await stopCleanly(b, 'b leaving the group');
    const leftAt = Date.now();
    const complete = await untilStored(n.database, expected.size, 'after b left', 90_000).then(() => true, () => false);
    const recoveryMs = Date.now() - leftAt;
    const exit = await exitWithin(a, 90_000, 'a, until idle');

    const diff = compareWindows(expected, await storedWindows(n.database));
    const dlq = (await readAll(kafka, `${n.topic}.dlq`)).length;
    report({
      scenario: 'a member joins and leaves (4 partitions)',
      inputMessages: produced,
      faults: '2 rebalances (1→2→1 members, 4 partitions)',
      ...windowFigures(diff),
      dlq,
      recoveryMs,
    });
    expect(exit.code, exit.stderr.slice(-3_000)).toBe(0);
    expect(diff.extra, `windows that the data does not have: ${sample(diff.extra)}`).toEqual([]);
    expect(diff.lost, `windows lost: ${sample(diff.lost)}`).toEqual([]);
    expect(complete, 'every window stored in time').toBe(true);
    expect(dlq, 'dead letters (the input has no bad message)').toBe(0);
  });
});
