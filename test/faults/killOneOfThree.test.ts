/**
 * Three `diffwatch run` instances of one group on a 6-partition topic, diffusion-scored with a
 * model per entity read from the models topic; one is killed with SIGKILL mid-stream and the
 * other two take its partitions. Its entities must go on, not start over: the same model version
 * (no cold start, no retraining), the same detector state (no second warm-up, no threshold
 * reset), the same alert ids. The check is a reference run of the same input by one instance that
 * is never interrupted (its own group, state topic and database): every window's decision must
 * be the same, window for window, and so must every alert id.
 *
 * Scores are compared exactly. The imputation scorer draws its noise once per model from the
 * checkpoint's `scoreSeed` (windowScorer.ts `scoringNoise`) and uses it for every window
 * (common random numbers), so a window's score depends on the model and the window alone, not on
 * its batch mates, its instance or the run; the detector's state restored from the state topic
 * (thresholdState.ts) makes exactly the decisions it would have made. Were scoring not
 * deterministic, only the states and alert ids could be compared.
 */
import type { Admin } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, waitUntil } from '../integration/helpers.ts';
import { committedOffsets, endOffsets, killAllDiffwatch, startDiffwatch, type DiffwatchProcess } from '../integration/service/runHelpers.ts';
import { MINUTE, T0, compareWindows, entityId, expectedWindows, influxOf, readAll, report, sample, storedWindows, windowFigures, type Input } from './faultHelpers.ts';
import { saveLogs, stopCleanly, untilCommittedToEnd, untilStored } from './instances.ts';
import { alertEvents, fleetConfig, fleetNames, partitionOf, produceFleetReadings, publishModels, storedDecisions, trainModels, type Injected, type StoredDecision } from './modelFleet.ts';

const PARTITIONS = 6;
/** 24 entities: 5, 2, 7, 4, 4 and 2 on partitions 0 to 5. */
const INPUT: Input = { entities: 24, readings: 180, channels: ['cpu', 'mem', 'net'], window: 32 };
/** Windows of SPOT calibration and warm-up: the first 40 windows of an entity (readings 0 to 70). */
const WARMUP = 40;
/**
 * Readings produced before the kill (every entity past warm-up), while the member to be killed
 * scores them, and after the kill.
 */
const PHASES = [
  { from: 0, to: 100 },
  { from: 100, to: 108 },
  { from: 108, to: INPUT.readings },
] as const;
const SEEDS = [1, 2, 3];

const started: DiffwatchProcess[] = [];

afterEach(async () => {
  saveLogs('killOneOfThree', started);
  started.length = 0;
  await killAllDiffwatch();
});

/** The partitions of the topic `p` holds after its newest group join. */
function assignmentOf(p: DiffwatchProcess, topic: string): number[] {
  const joins = p.logs().filter((r) => r.msg === 'group joined');
  return [...(((joins.at(-1)?.assignment ?? {}) as Record<string, number[]>)[topic] ?? [])].sort((a, b) => a - b);
}

/** True while `p` runs; throws with its stderr once it has exited (no use waiting for it). */
function alive(p: DiffwatchProcess): boolean {
  if (p.child.exitCode === null && p.child.signalCode === null) return true;
  throw new Error(`diffwatch exited (${p.child.exitCode ?? p.child.signalCode})\n${p.stderrTail()}`);
}

/** Windows (keys `<entity>@<end>`, any order) in warm-up after a window of the same entity that was not: a detector started over. */
function backInWarmup(decisions: readonly [string, StoredDecision][]): string[] {
  const judged = new Set<string>();
  const out: string[] = [];
  for (const [k, d] of [...decisions].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const entity = k.split('@')[0];
    if (d.state !== 'warmup') judged.add(entity);
    else if (judged.has(entity)) out.push(k);
  }
  return out;
}

describe('three instances on a 6-partition topic, one killed with SIGKILL', () => {
  it('the survivors go on with the moved entities\' models, detector state and alerts, window for window as an uninterrupted run', { timeout: 300_000 }, async () => {
    const wallStart = Date.now();
    const brokers = kafkaBrokers();
    const kafka = kafkaClient();
    const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'info' };
    const n = fleetNames('faults-kill3');
    const ref = fleetNames('faults-kill3-ref', n);
    await createTopics(brokers, [n.topic], PARTITIONS);
    await createTopics(brokers, [n.anomalies, ref.anomalies], 1);

    // Three checkpoints (seeds), entity e scored by checkpoint e mod 3, each under its own key.
    const models = await trainModels(INPUT, SEEDS);
    const versionOf = new Map(Array.from({ length: INPUT.entities }, (_, e) => [entityId(e), models[e % models.length].version]));
    await publishModels(kafka, n.modelTopic, INPUT, (e) => models[e % models.length]);

    // 1. Three members, each with its own empty model cache; input only once each holds 2 partitions.
    const start = (config: string) => {
      const p = startDiffwatch(['run', '--config', config], env);
      started.push(p);
      return p;
    };
    const fleet = [0, 1, 2].map(() => start(fleetConfig(n, INPUT, { warmupWindows: WARMUP })));
    await waitUntil(() => fleet.every((p) => alive(p) && assignmentOf(p, n.topic).length === 2), { timeoutMs: 90_000, intervalMs: 200, what: '2 partitions for each of the 3 members' });
    const victim = fleet[1];
    const survivors = [fleet[0], fleet[2]];
    const movedPartitions = assignmentOf(victim, n.topic);
    const moved = Array.from({ length: INPUT.entities }, (_, e) => e).filter((e) => movedPartitions.includes(partitionOf(entityId(e), PARTITIONS)));
    expect(moved.length, 'entities on the killed member\'s partitions').toBeGreaterThanOrEqual(2);

    // One anomaly of a moved entity open when the member dies and going on after it (its last
    // readings are produced after the kill, so a survivor resolves it); one after the kill.
    const spanning: Injected = { entity: moved[0], channel: 'cpu', from: 92, to: 112, shift: 6 };
    const after: Injected = { entity: moved[1], channel: 'cpu', from: 150, to: 156, shift: 6 };
    const anomalies = [spanning, after];
    let produced = await produceFleetReadings(kafka, n.topic, INPUT, PHASES[0], anomalies);

    // 2. Every entity past warm-up and the first anomaly open; then more input, and the kill mid-way through it.
    const phase1Windows = INPUT.entities * (PHASES[0].to - INPUT.window + 1);
    await untilStored(n.database, phase1Windows, `the first ${PHASES[0].to} readings of every entity`, 120_000);
    const opened = (entity: number) => countOf(n.database, `SELECT count("event_id") AS c FROM "alerts" WHERE "entity" = '${entityId(entity)}' AND "state" = 'open'`);
    await waitUntil(async () => (await opened(spanning.entity)) > 0, { timeoutMs: 60_000, what: 'the first anomaly open before the kill' });
    const movedWindows = () => countOf(n.database, `SELECT count("state") AS c FROM "scores" WHERE ${moved.map((e) => `"entity" = '${entityId(e)}'`).join(' OR ')}`);
    const movedBefore = await movedWindows();
    produced += await produceFleetReadings(kafka, n.topic, INPUT, PHASES[1], anomalies);
    await victim.waitFor(async () => (await movedWindows()) > movedBefore, { what: 'the victim scoring the second part', timeoutMs: 60_000, intervalMs: 20 });
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    const killed = await victim.exited;
    expect(killed.signal).toBe('SIGKILL');
    const movedAtKill = await movedWindows();
    const admin: Admin = kafka.admin();
    await admin.connect();
    let committedAtKill: string;
    try {
      const [ends, done] = await Promise.all([endOffsets(admin, n.topic), committedOffsets(admin, n.groupId, n.topic)]);
      committedAtKill = movedPartitions.map((p) => `${p}:${done.get(p)}/${ends.get(p)}`).join(' ');
    } finally {
      await admin.disconnect();
    }

    // 3. The rest of the input; the survivors take the partitions over and finish.
    produced += await produceFleetReadings(kafka, n.topic, INPUT, PHASES[2], anomalies);
    const expected = expectedWindows(INPUT);
    await waitUntil(async () => (await movedWindows()) > movedAtKill, { timeoutMs: 60_000, intervalMs: 50, what: 'a survivor writing a moved entity\'s window' });
    const firstMovedMs = Date.now() - killedAt;
    const complete = await untilStored(n.database, expected.size, 'after the kill', 120_000).then(() => true, () => false);
    const recoveryMs = Date.now() - killedAt;
    if (complete) {
      await untilCommittedToEnd(kafka, n);
      await Promise.all(survivors.map((p, i) => stopCleanly(p, `survivor ${i}`)));
    }
    const faultWallMs = Date.now() - wallStart;

    // 4. The reference: one member alone, never interrupted, over the same topic and models.
    const reference = start(fleetConfig(ref, INPUT, { warmupWindows: WARMUP }));
    const referenceDone = await untilStored(ref.database, expected.size, 'the reference run', 150_000).then(() => true, () => false);
    if (referenceDone) {
      await untilCommittedToEnd(kafka, ref);
      await stopCleanly(reference, 'the reference');
    }

    // 5. What each run holds.
    const diff = compareWindows(expected, await storedWindows(n.database));
    const [mine, theirs] = await Promise.all([storedDecisions(n.database), storedDecisions(ref.database)]);
    const [events, refEvents] = await Promise.all([alertEvents(kafka, n.anomalies), alertEvents(kafka, ref.anomalies)]);
    const dlq = (await readAll(kafka, `${n.topic}.dlq`)).length;
    const differing = [...expected].filter((k) => JSON.stringify(mine.byWindow.get(k)) !== JSON.stringify(theirs.byWindow.get(k)));
    const movedIds = new Set(moved.map(entityId));
    const movedDecisions = [...mine.byWindow].filter(([k]) => movedIds.has(k.split('@')[0]));
    const wrongVersion = movedDecisions.filter(([k, d]) => d.modelVersion !== versionOf.get(k.split('@')[0])).map(([k, d]) => `${k} ${d.modelVersion}`);
    const warmupAfter = backInWarmup(movedDecisions);
    const idsOf = (es: typeof events) => new Set(es.map((e) => e.alertId));
    const eventIdConflicts = conflicts(events);
    const alertIdsBy = (es: typeof events, a: Injected) => new Set(es.filter((e) => e.entityId === entityId(a.entity) && e.startTime >= T0 + a.from * MINUTE && e.startTime < T0 + (a.to + INPUT.window) * MINUTE).map((e) => e.alertId));
    const logs = survivors.flatMap((p) => p.logs());
    const movedKeys = new Set(moved.map((e) => `entity:${entityId(e)}`));
    const coldStarts = logs.filter((r) => r.msg.startsWith('cold start') && movedKeys.has(r.key as string)).length;
    const restored = new Set(logs.filter((r) => r.msg === 'model live' && movedKeys.has(r.key as string) && r.why === 'restored').map((r) => r.key as string));

    report({
      scenario: 'three instances, one killed (diffusion, models from the models topic)',
      inputMessages: produced,
      faults: `SIGKILL of 1 of 3 members (partitions ${movedPartitions.join(', ')}, ${moved.length} entities) mid-stream; committed/end at the kill ${committedAtKill}`,
      ...windowFigures(diff),
      dlq,
      recoveryMs,
      firstMovedWindowMs: firstMovedMs,
      seriesPoints: mine.all,
      windowsDifferingFromReference: differing.length,
      movedWindowsWrongVersion: wrongVersion.length,
      movedWarmupAfterWarmup: warmupAfter.length,
      movedColdStarts: coldStarts,
      movedModelsRestoredBySurvivors: restored.size,
      alertIds: idsOf(events).size,
      referenceAlertIds: idsOf(refEvents).size,
      alertDeliveries: events.length,
      spanningAlertEvents: events.filter((e) => alertIdsBy(events, spanning).has(e.alertId)).map((e) => `${e.state}@${new Date(e.endTime).toISOString().slice(11, 16)}`).join(' '),
      alertIdConflicts: eventIdConflicts,
      faultRunWallMs: faultWallMs,
      wallMs: Date.now() - wallStart,
    });
    expect(complete, 'every window stored in time').toBe(true);
    expect(referenceDone, 'the reference run complete').toBe(true);
    expect(diff.lost, `windows lost: ${sample(diff.lost)}`).toEqual([]);
    expect(diff.extra, `windows that the data does not have: ${sample(diff.extra)}`).toEqual([]);
    expect(mine.all, 'points in scores: one series per window (a second model version would add one)').toBe(expected.size);
    expect(dlq, 'dead letters (the input has no bad message)').toBe(0);
    expect(wrongVersion, `moved entities' windows not scored by their published model: ${sample(wrongVersion)}`).toEqual([]);
    expect(coldStarts, 'cold starts of moved entities on the survivors').toBe(0);
    expect(restored, 'moved entities\' models loaded from the models topic by the survivors').toEqual(movedKeys);
    expect(warmupAfter, `moved entities back in warm-up: ${sample(warmupAfter)}`).toEqual([]);
    expect(differing, `windows whose decision differs from the uninterrupted run: ${sample(differing)}`).toEqual([]);
    expect(eventIdConflicts, 'event ids shared by different events').toBe(0);
    for (const a of anomalies) {
      const ids = alertIdsBy(events, a);
      expect(ids.size, `alert ids of the anomaly of ${entityId(a.entity)} at readings ${a.from}–${a.to}`).toBe(1);
      expect(ids, 'the same alert id as the uninterrupted run').toEqual(alertIdsBy(refEvents, a));
    }
    const spanningStates = events.filter((e) => alertIdsBy(events, spanning).has(e.alertId)).map((e) => `${e.state}@${new Date(e.endTime).toISOString().slice(11, 16)}`);
    expect(spanningStates, 'the anomaly open at the kill: opened by the killed member, resolved by a survivor').toEqual(expect.arrayContaining([expect.stringMatching(/^open@/), expect.stringMatching(/^resolved@/)]));
    expect(events.find((e) => e.state === 'resolved' && alertIdsBy(events, spanning).has(e.alertId))!.endTime, 'resolved after its last shifted reading').toBeGreaterThanOrEqual(T0 + spanning.to * MINUTE);
    const opens = events.filter((e) => e.state === 'open').map((e) => `${e.entityId}@${new Date(e.startTime).toISOString().slice(11, 16)} ${e.score.toFixed(2)}/${e.threshold.toFixed(2)}`);
    expect(idsOf(events).size, `alert ids: one per injected anomaly, none on normal data (opened: ${opens.join(', ')})`).toBe(anomalies.length);
    expect(idsOf(events), 'alert ids: the same as the uninterrupted run').toEqual(idsOf(refEvents));
    expect(new Set(events.map((e) => e.eventId)), 'event ids: the same as the uninterrupted run').toEqual(new Set(refEvents.map((e) => e.eventId)));
  });
});

/** Event ids shared by two different events (entity, kind, state, end time). */
function conflicts(events: readonly { eventId: string; entityId: string; kind: string; state: string; endTime: number }[]): number {
  const seen = new Map<string, string>();
  let n = 0;
  for (const e of events) {
    const what = `${e.entityId}|${e.kind}|${e.state}|${e.endTime}`;
    const prior = seen.get(e.eventId);
    if (prior === undefined) seen.set(e.eventId, what);
    else if (prior !== what) n++;
  }
  return n;
}

/** The first row's `c` of an InfluxQL count query; 0 while the database does not exist yet. */
async function countOf(database: string, q: string): Promise<number> {
  const rows = await influxOf(database).query<{ c: number }>(q).catch(() => []);
  return rows[0]?.c ?? 0;
}
