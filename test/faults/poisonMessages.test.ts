/**
 * Poison messages mixed into valid traffic: random bytes, truncated Avro, JSON with non-finite
 * values, absurd (out of range) timestamps, oversize payloads and tombstones, keyed like the
 * valid readings so that they land between them on the same partitions, plus a flood of readings
 * from entities never seen again. The service must not crash; every poison message, and nothing
 * else, lands in the dead-letter topic; the flood costs no window and its memory is given back
 * once the entities expire; the valid traffic's windows are exactly the windows of the data.
 */
import { readFileSync } from 'node:fs';
import { Partitioners } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeReading } from '../../src/ingest/codec/index.ts';
import { mulberry32 } from '../../src/random.ts';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient } from '../integration/helpers.ts';
import { killAllDiffwatch, startDiffwatch, type DiffwatchProcess } from '../integration/service/runHelpers.ts';
import { MINUTE, T0, alertIds, compareWindows, entityId, expectedWindows, readAll, readingValues, report, sample, storedWindows, type Input } from './faultHelpers.ts';
import { joined, metricOf, names, saveLogs, scenarioConfig, stopCleanly, untilCommittedToEnd, untilStored } from './instances.ts';

const INPUT: Input = { entities: 500, readings: 50, channels: ['cpu', 'mem', 'net'], window: 32 };
/** Poison messages per minute of input (each kind in turn). */
const POISON_PER_MINUTE = 70;
/** Readings of entities never seen again, per minute of input. */
const FLOOD_PER_MINUTE = 80;
const MAX_MESSAGE_BYTES = 16 * 1024;

const KINDS = ['random-bytes', 'truncated-avro', 'non-finite', 'absurd-timestamp', 'oversize', 'tombstone'] as const;
type Kind = (typeof KINDS)[number];

/** A poison message of `kind` for entity `id` at minute `i`. */
function poison(kind: Kind, id: string, i: number, rnd: () => number): Buffer | null {
  const ts = T0 + i * MINUTE;
  switch (kind) {
    case 'random-bytes':
      return Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256)));
    case 'truncated-avro': {
      const full = encodeReading({ entityId: id, timestamp: ts, values: { cpu: 1, mem: 2, net: 3 } }, 'avro');
      return full.subarray(0, 1 + Math.floor(rnd() * (full.length - 1)));
    }
    case 'non-finite':
      // JSON has no NaN: 1e999 parses to Infinity, and "NaN" is a string where a number belongs.
      return Buffer.from(rnd() < 0.5 ? `{"entityId":"${id}","timestamp":${ts},"values":{"cpu":1e999,"mem":2,"net":3}}` : `{"entityId":"${id}","timestamp":${ts},"values":{"cpu":"NaN","mem":2,"net":3}}`);
    case 'absurd-timestamp':
      return Buffer.from(`{"entityId":"${id}","timestamp":${rnd() < 0.5 ? '1e17' : '-9007199254740993'},"values":{"cpu":1,"mem":2,"net":3}}`);
    case 'oversize':
      return Buffer.from(`{"entityId":"${id}","timestamp":${ts},"values":{"cpu":1,"mem":2,"net":3},"tags":{"pad":"${'x'.repeat(MAX_MESSAGE_BYTES)}"}}`);
    case 'tombstone':
      return null;
  }
}

/** Resident memory of a process, in MiB (Linux). */
function rssMiB(p: DiffwatchProcess): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.child.pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** The service's V8 heap in use, in MiB, from its /metrics (prom-client's process metrics). */
const heapMiB = async (p: DiffwatchProcess) => Math.round((await metricOf(p, 'nodejs_heap_size_used_bytes')) / 2 ** 20);

const started: DiffwatchProcess[] = [];

afterEach(async () => {
  saveLogs('poison', started);
  started.length = 0;
  await killAllDiffwatch();
});

describe('poison messages mixed into valid traffic', () => {
  it('dead-letters every poison message and nothing else, stays up, and writes exactly the valid windows', async () => {
    const brokers = kafkaBrokers();
    const n = names('faults-poison');
    await createTopics(brokers, [n.topic], 3);
    await createTopics(brokers, [n.anomalies, `${n.topic}.dlq`], 1);
    const kafka = kafkaClient();
    const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'info' };
    const run = startDiffwatch(['run', '--config', scenarioConfig(n, INPUT, { ingest: { maxMessageBytes: MAX_MESSAGE_BYTES } })], env);
    started.push(run);
    await joined(run, 'the service joins its group');
    const rssBefore = rssMiB(run);
    const heapBefore = await heapMiB(run);

    // Valid readings minute by minute; after each entity's reading, now and then a poison
    // message under the same key (so on the same partition) or a reading of a one-off entity.
    const rnd = mulberry32(7);
    const sentPoison = new Map<Kind, number>(KINDS.map((k) => [k, 0]));
    let valid = 0;
    let flood = 0;
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      for (let i = 0; i < INPUT.readings; i++) {
        const messages: { key: string; value: Buffer | null; headers?: Record<string, string> }[] = [];
        for (let e = 0; e < INPUT.entities; e++) {
          const id = entityId(e);
          messages.push({ key: id, value: encodeReading({ entityId: id, timestamp: T0 + i * MINUTE, values: readingValues(INPUT, e, i) }, 'json') });
          valid++;
          if (rnd() < POISON_PER_MINUTE / INPUT.entities) {
            const kind = KINDS[Math.floor(rnd() * KINDS.length)];
            sentPoison.set(kind, sentPoison.get(kind)! + 1);
            messages.push({ key: id, value: poison(kind, id, i, rnd), headers: { poison: kind } });
          }
          if (rnd() < FLOOD_PER_MINUTE / INPUT.entities) {
            const once = `once-${i}-${e}`;
            messages.push({ key: once, value: encodeReading({ entityId: once, timestamp: T0 + i * MINUTE, values: { cpu: 1, mem: 2, net: 3 } }, 'json') });
            flood++;
          }
        }
        await producer.send({ topic: n.topic, acks: -1, messages });
      }
    } finally {
      await producer.disconnect();
    }
    const poisonSent = [...sentPoison.values()].reduce((a, b) => a + b, 0);
    const startedAt = Date.now();

    // Every valid window, then the idle expiry of every entity (the flood included), then the commit at the end.
    const expected = expectedWindows(INPUT);
    const complete = await untilStored(n.database, expected.size, 'valid windows among the poison', 120_000).then(() => true, () => false);
    const recoveryMs = Date.now() - startedAt;
    if (complete) await untilCommittedToEnd(kafka, n, 90_000);
    const rssAfter = rssMiB(run);
    const heapAfter = await heapMiB(run);
    await stopCleanly(run, 'diffwatch run');

    const diff = compareWindows(expected, await storedWindows(n.database));
    const dead = await readAll(kafka, `${n.topic}.dlq`);
    const deadByKind = new Map<string, number>();
    for (const m of dead) {
      const kind = m.headers?.poison?.toString() ?? 'not poison';
      deadByKind.set(kind, (deadByKind.get(kind) ?? 0) + 1);
    }
    const alerts = await alertIds(kafka, n.anomalies);
    report({
      scenario: 'poison messages',
      inputMessages: valid + poisonSent + flood,
      faults: `${poisonSent} poison (${KINDS.map((k) => `${k} ${sentPoison.get(k)}`).join(', ')}) + ${flood} one-off entities`,
      windowsExpected: diff.expected,
      windowsScored: diff.stored,
      duplicates: diff.extra.length,
      lost: diff.lost.length,
      dlq: dead.length,
      recoveryMs,
      rssMiB: { before: rssBefore, after: rssAfter },
      heapUsedMiB: { before: heapBefore, after: heapAfter },
      alertDeliveries: alerts.deliveries,
      alertIdConflicts: alerts.conflicts,
    });
    expect(poisonSent, 'poison messages sent').toBeGreaterThan(2_000);
    expect(diff.lost, `windows lost: ${sample(diff.lost)}`).toEqual([]);
    expect(complete, 'every valid window stored in time').toBe(true);
    expect(diff.extra, `windows that the data does not have (the flood has none): ${sample(diff.extra)}`).toEqual([]);
    expect(Object.fromEntries(deadByKind), 'dead letters by poison kind').toEqual(Object.fromEntries([...sentPoison].filter(([, v]) => v > 0)));
    expect(alerts.conflicts, 'alert ids shared by different events').toBe(0);
    // Loose on purpose (a garbage collector decides when to give memory back): the flood's entities must not stay resident.
    expect(rssAfter - rssBefore, `RSS growth in MiB (before ${rssBefore}, after ${rssAfter})`).toBeLessThan(600);
  });
});
