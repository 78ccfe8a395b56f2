/**
 * A restart neither warms up again nor invents alerts: `diffwatch run` with the diffusion scorer
 * is killed with SIGKILL on NAB's machine_temperature after its first alert events, and
 * restarted with the same group and detector state topic. Compared with an uninterrupted run of
 * the same model and config: the same distinct events (an event id seen twice is an identical
 * at-least-once replay), the same window states, and no warm-up window after the kill.
 */
import type { Admin } from 'kafkajs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, uniqueName } from '../helpers.ts';
import { committedOffsets, countScores, endOffsets, influxClient, killAllDiffwatch, produceSeries, runDiffwatch, startDiffwatch } from '../service/runHelpers.ts';
import { ENTITY, FILE, ROWS, distinctEvents, readAnomalies, replayable, runConfig, runNames, scoreRows, trainOnProbation, warmupEnd, type ReadEvent, type TrainedModel } from './helpers.ts';

afterEach(killAllDiffwatch);

/** Event ids that occur more than once with different content, but for when they were detected (must be none). */
function conflictingDuplicates(read: readonly ReadEvent[]): string[] {
  const first = new Map<string, string>();
  const bad = new Set<string>();
  for (const { event } of read) {
    const body = JSON.stringify(replayable(event));
    const seen = first.get(event.eventId);
    if (seen === undefined) first.set(event.eventId, body);
    else if (seen !== body) bad.add(event.eventId);
  }
  return [...bad];
}

const byId = (a: { eventId: string }, b: { eventId: string }) => a.eventId.localeCompare(b.eventId);

describe('diffwatch run with the diffusion scorer, killed mid-stream and restarted', () => {
  const env = { KAFKA_BROKERS: '', INFLUX_URL: '', DIFFWATCH_LOG_LEVEL: 'warn' };
  const topic = uniqueName('nab-restart-telemetry');
  let model: TrainedModel;

  beforeAll(async () => {
    Object.assign(env, { KAFKA_BROKERS: kafkaBrokers().join(','), INFLUX_URL: influxUrl() });
    await createTopics(kafkaBrokers(), [topic], 1);
    model = await trainOnProbation(env);
    await produceSeries(kafkaClient(), { topic, entity: ENTITY, file: FILE, to: ROWS });
  });

  it('continues the restored detector: no new warm-up, and the same distinct events as an uninterrupted run', async () => {
    // The reference: one uninterrupted run on its own group, state topic, database and anomalies topic.
    const ref = runNames('ref');
    const refExit = await runDiffwatch(['run', '--config', runConfig(topic, model.dir, ref), '--until-idle', '5'], env, 240_000);
    expect(refExit.code, refExit.stderr.slice(-4000)).toBe(0);
    const refRead = await readAnomalies(kafkaClient(), ref.anomalies);
    const refEvents = distinctEvents(refRead);
    const refRows = await scoreRows(influxClient(ref.database), ENTITY);
    expect(refEvents.filter((e) => e.state === 'open').length, 'the reference run raised alerts').toBeGreaterThan(0);

    const names = runNames('restart');
    const config = runConfig(topic, model.dir, names);
    const influx = influxClient(names.database);
    const admin: Admin = kafkaClient().admin();
    await admin.connect();
    try {
      // 1. Run until windows past the warm-up are durable in InfluxDB, alert events are on the
      // anomalies topic and an offset is committed, then kill. (Events can be ahead of InfluxDB,
      // whose writer batches, so the warm-up is judged from InfluxDB itself.)
      const warmWindows = refRows.filter((r) => r.time <= warmupEnd(refRows)).length;
      const first = startDiffwatch(['run', '--config', config], env);
      await first.waitFor(
        async () =>
          (await countScores(influx, ENTITY).catch(() => 0)) > warmWindows + 50 &&
          ((await endOffsets(admin, names.anomalies).catch(() => new Map())).get(0) ?? 0n) > 0n &&
          ((await committedOffsets(admin, names.groupId, topic)).get(0) ?? -1n) > 0n,
        { what: 'alert events published and an offset committed', timeoutMs: 180_000, intervalMs: 20 },
      );
      first.kill('SIGKILL');
      const killed = await first.exited;
      expect(killed.signal, killed.stderr.slice(-4000)).toBe('SIGKILL');
      const atKill = await scoreRows(influx, ENTITY);
      const lastAtKill = atKill[atKill.length - 1].time;
      const eventsAtKill = (await readAnomalies(kafkaClient(), names.anomalies)).length;
      // Mid-stream: after the warm-up (alerts were sent) and well before the end.
      expect(atKill.length, 'windows durable at the kill').toBeLessThan(refRows.length);
      expect(lastAtKill).toBeGreaterThan(warmupEnd(refRows));

      // 2. Restart with the same group and state topic, to the end of the series.
      const second = await runDiffwatch(['run', '--config', config, '--until-idle', '5'], env, 240_000);
      expect(second.code, second.stderr.slice(-4000)).toBe(0);

      const read = await readAnomalies(kafkaClient(), names.anomalies);
      const events = distinctEvents(read);
      const rows = await scoreRows(influx, ENTITY);
      console.log(
        JSON.stringify({
          killedAt: new Date(lastAtKill).toISOString(),
          windowsAtKill: atKill.length,
          eventsAtKill,
          messages: read.length,
          distinctEvents: events.length,
          replayedEvents: read.length - events.length,
          referenceEvents: refEvents.length,
        }),
      );

      // At-least-once: an event id may repeat, but only as an identical event.
      expect(conflictingDuplicates(read)).toEqual([]);
      // The same incidents as without the crash: same open events (ids and content), and the rest.
      // (`detectedAt` is the wall-clock time of each run, so it is left out.)
      const opens = (es: typeof events) => es.filter((e) => e.state === 'open').sort(byId).map(replayable);
      expect(opens(events)).toEqual(opens(refEvents));
      expect([...events].sort(byId).map(replayable)).toEqual([...refEvents].sort(byId).map(replayable));

      // No new warm-up: nothing after the kill was written in warm-up, and every window carries
      // the state and threshold of the uninterrupted run.
      const restarted = rows.filter((r) => r.time > lastAtKill);
      expect(restarted.length, 'windows written after the restart').toBeGreaterThan(0);
      expect(restarted.filter((r) => r.state === 'warmup').map((r) => new Date(r.time).toISOString())).toEqual([]);
      expect(rows.length).toBe(refRows.length);
      const differing = rows.filter((r, i) => r.time !== refRows[i].time || r.state !== refRows[i].state || r.threshold !== refRows[i].threshold);
      expect(differing.slice(0, 5), `${differing.length} windows differ from the uninterrupted run`).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });
});
