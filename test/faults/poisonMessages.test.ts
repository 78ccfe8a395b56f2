/**
 * Poison messages mixed into valid traffic on a Confluent-framed Avro topic: random bytes,
 * truncated Avro, a schema id the decoder does not know, NaN and infinite values, absurd
 * timestamps, oversize payloads, 10 MB payloads and tombstones, keyed like the valid readings so
 * that they land between them on the same partitions, plus a flood of readings from entities
 * never seen again. The service must not crash; every poison message, and nothing else, lands in
 * the dead-letter topic; the valid traffic's windows are exactly the windows of the data.
 *
 * Memory must be bounded, not just printed: the input comes in two equal phases, each ending
 * with every entity expired (idle), and the V8 heap after a full garbage collection at the end of
 * phase 2 must not be meaningfully above that at the end of phase 1. Phase 1 pays for everything
 * that is allocated once (code, caches, connections); anything phase 2 adds is kept per message
 * or per entity, which for a service that runs for weeks is a leak.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type avro from 'avsc';
import { Partitioners, type Kafka } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeReading, frameConfluent, parseSchema, READING_SCHEMA_PATH } from '../../src/ingest/codec/index.ts';
import { DLQ_HEADERS } from '../../src/ingest/deadLetter.ts';
import { mulberry32 } from '../../src/random.ts';
import { influxUrl, kafkaBrokers, kafkaClient } from '../integration/helpers.ts';
import { killAllDiffwatch, startDiffwatch, type DiffwatchProcess } from '../integration/service/runHelpers.ts';
import { MINUTE, T0, alertIds, compareWindows, entityId, readAll, readingValues, report, sample, storedWindows, windowKey, windowFigures, type Input } from './faultHelpers.ts';
import { joined, metricOf, names, saveLogs, scenarioConfig, stopCleanly, untilCommittedToEnd, untilStored, type Names } from './instances.ts';

/** One phase of valid traffic: readings [p·R, (p+1)·R) of every entity. */
const INPUT: Input = { entities: 300, readings: 50, channels: ['cpu', 'mem', 'net'], window: 32 };
const PHASES = 2;
/** Poison messages per minute of input (kinds drawn at random), besides the 10 MB ones. */
const POISON_PER_MINUTE = 104;
/** Minutes of each phase that carry one 10 MB payload. */
const HUGE_AT_MINUTES = [5, 20, 35];
const HUGE_BYTES = 10 * 1024 * 1024;
/** Readings of entities never seen again, per minute of input. */
const FLOOD_PER_MINUTE = 300;
/** `ingest.maxMessageBytes`: bytes; larger messages are dead-lettered (their first 16 KiB). */
const MAX_MESSAGE_BYTES = 16 * 1024;
/** The source topic's `max.message.bytes`, so that the broker takes a 10 MB message (and its batch). */
const TOPIC_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const SCHEMA_ID = 1;
/**
 * `stream.entityIdleMs`: how long after its last reading an entity expires. It must outlast the
 * wait of a partition behind a 10 MB batch: the broker returns a batch over the fetch limits
 * (kafkajs `maxBytes` 10 MiB, `kafka.maxBytesPerPartition` 1 MiB) only when it leads the fetch
 * response, so that partition waits while the others have data. With 5 s, in one run of six
 * (another scenario sharing the cores), the 104 entities of such a partition expired in phase 2
 * and lost 5 windows each.
 */
const IDLE_MS = 15_000;
/**
 * MiB the heap after GC may grow from the end of phase 1 to the end of phase 2. Phase 2 sends
 * about 35,000 messages, 15,000 of them from entity ids never seen before: a leak of 100 bytes per
 * new entity id (a map entry and its key) adds 1.4 MiB, and of 100 bytes per message 3.4 MiB. A
 * note of each entity's partition kept after its buffer expired grew it by 2.70 MiB (about 190
 * bytes an id); without a leak it moved by -0.02 to 0.54 MiB in five runs (docs/reliability.md).
 */
const HEAP_GROWTH_LIMIT_MIB = 1;

const KINDS = ['random-bytes', 'truncated-avro', 'wrong-schema-id', 'non-finite', 'absurd-timestamp', 'oversize', 'tombstone'] as const;
type Kind = (typeof KINDS)[number] | '10mb';

/** The reading schema with a plain long for the timestamp: it writes what the real schema refuses to (a date no clock has). */
const rawType: avro.Type = (() => {
  const schema = JSON.parse(readFileSync(READING_SCHEMA_PATH, 'utf8')) as { fields: { name: string; type: unknown }[] };
  schema.fields = schema.fields.map((f) => (f.name === 'timestamp' ? { ...f, type: 'long' } : f));
  return parseSchema(schema as avro.Schema);
})();

const framed = (r: { entityId: string; timestamp: number; values: Record<string, number>; tags?: Record<string, string> }) => frameConfluent(SCHEMA_ID, rawType.toBuffer({ ...r, tags: r.tags ?? null }));

/** A poison message of `kind` for entity `id` at `ts`. */
function poison(kind: Kind, id: string, ts: number, rnd: () => number): Buffer | null {
  const values = { cpu: 1, mem: 2, net: 3 };
  switch (kind) {
    case 'random-bytes':
      return Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256)));
    case 'truncated-avro': {
      const full = encodeReading({ entityId: id, timestamp: ts, values }, 'avro');
      return frameConfluent(SCHEMA_ID, full.subarray(0, Math.floor(rnd() * full.length)));
    }
    case 'wrong-schema-id':
      return frameConfluent(SCHEMA_ID + 1 + Math.floor(rnd() * 1_000_000), encodeReading({ entityId: id, timestamp: ts, values }, 'avro'));
    case 'non-finite':
      return framed({ entityId: id, timestamp: ts, values: { ...values, cpu: [NaN, Infinity, -Infinity][Math.floor(rnd() * 3)] } });
    case 'absurd-timestamp':
      // Beyond ±8.64e15 ms, the range of a JavaScript date, and still a safe integer.
      return framed({ entityId: id, timestamp: rnd() < 0.5 ? 9e15 : -9e15, values });
    case 'oversize':
      return framed({ entityId: id, timestamp: ts, values, tags: { pad: 'x'.repeat(MAX_MESSAGE_BYTES) } });
    case '10mb':
      return framed({ entityId: id, timestamp: ts, values, tags: { pad: 'x'.repeat(HUGE_BYTES) } });
    case 'tombstone':
      return null;
  }
}

/** Resident memory of a process, in MiB (Linux). */
function rssMiB(p: DiffwatchProcess): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.child.pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 100) / 100;

/**
 * The service's V8 heap in use after a full collection, in MiB: scripts/gc-probe.mjs collects on SIGUSR2
 * and logs the heap it leaves (`probeMiB`, what the bound is checked on); /metrics is read just
 * after (`metricsMiB`, prom-client's `nodejs_heap_size_used_bytes`, which also counts what the
 * service allocated in between: up to 0.8 MiB more). The smallest of three collections.
 */
async function heapAfterGc(p: DiffwatchProcess): Promise<{ probeMiB: number; metricsMiB: number }> {
  let best = { probeMiB: Infinity, metricsMiB: Infinity };
  for (let k = 0; k < 3; k++) {
    const from = p.logs().length;
    p.kill('SIGUSR2');
    const at = await p.waitForLog((r) => r.msg === 'heap after gc', { what: 'a garbage collection', from });
    const probeMiB = mib(p.logs()[at].heapUsedBytes as number);
    const metricsMiB = mib(await metricOf(p, 'nodejs_heap_size_used_bytes'));
    if (probeMiB < best.probeMiB) best = { probeMiB, metricsMiB };
  }
  return best;
}

async function createTopicsFor(kafka: Kafka, n: Names): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: n.topic, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: String(TOPIC_MAX_MESSAGE_BYTES) }] },
        // The broker's default limit (1 MB): a 10 MB message's dead letter must fit it.
        { topic: `${n.topic}.dlq`, numPartitions: 1, replicationFactor: 1 },
        { topic: n.anomalies, numPartitions: 1, replicationFactor: 1 },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

/** Windows of phase `p`: each entity's buffer starts anew (it expired between phases). */
function phaseWindows(p: number): string[] {
  const out: string[] = [];
  for (let e = 0; e < INPUT.entities; e++) {
    for (let i = p * INPUT.readings + INPUT.window - 1; i < (p + 1) * INPUT.readings; i++) out.push(windowKey(entityId(e), T0 + i * MINUTE));
  }
  return out;
}

const started: DiffwatchProcess[] = [];

afterEach(async () => {
  saveLogs('poison', started);
  started.length = 0;
  await killAllDiffwatch();
});

describe('poison messages mixed into valid traffic', () => {
  it('dead-letters every poison message and nothing else, stays up, writes exactly the valid windows, and holds no more memory after a second flood', async () => {
    const wallStart = Date.now();
    const brokers = kafkaBrokers();
    const n = names('faults-poison');
    const kafka = kafkaClient();
    await createTopicsFor(kafka, n);
    const env = {
      KAFKA_BROKERS: brokers.join(','),
      INFLUX_URL: influxUrl(),
      DIFFWATCH_LOG_LEVEL: 'info',
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(join(import.meta.dirname, '../../scripts/gc-probe.mjs')).href}`.trim(),
    };
    const config = scenarioConfig(n, INPUT, { ingest: { format: 'confluent', schemaIds: { [SCHEMA_ID]: READING_SCHEMA_PATH }, maxMessageBytes: MAX_MESSAGE_BYTES }, entityIdleMs: IDLE_MS });
    const run = startDiffwatch(['run', '--config', config], env);
    started.push(run);
    await joined(run, 'the service joins its group');
    const rssStart = rssMiB(run);
    const heapStart = await heapAfterGc(run);

    // Valid readings minute by minute; after some entity's reading, a poison message under the
    // same key (so on the same partition); between them, readings of one-off entities.
    const rnd = mulberry32(7);
    const sentPoison = new Map<Kind, number>([...KINDS, '10mb' as const].map((k) => [k, 0]));
    const expected = new Set<string>();
    let valid = 0;
    let flood = 0;
    const phases: { windows: number; recoveryMs: number; rssMiB: number; heap: { metricsMiB: number; probeMiB: number } }[] = [];
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      for (let p = 0; p < PHASES; p++) {
        for (let i = p * INPUT.readings; i < (p + 1) * INPUT.readings; i++) {
          const ts = T0 + i * MINUTE;
          const poisonAfter = new Map<number, Kind[]>();
          const add = (e: number, kind: Kind) => poisonAfter.set(e, [...(poisonAfter.get(e) ?? []), kind]);
          for (let k = 0; k < POISON_PER_MINUTE; k++) add(Math.floor(rnd() * INPUT.entities), KINDS[Math.floor(rnd() * KINDS.length)]);
          if (HUGE_AT_MINUTES.includes(i - p * INPUT.readings)) add(Math.floor(rnd() * INPUT.entities), '10mb');
          const messages: { key: string; value: Buffer | null; headers?: Record<string, string> }[] = [];
          for (let e = 0; e < INPUT.entities; e++) {
            const id = entityId(e);
            messages.push({ key: id, value: encodeReading({ entityId: id, timestamp: ts, values: readingValues(INPUT, e, i) }, 'confluent', { schemaId: SCHEMA_ID }) });
            valid++;
            for (const kind of poisonAfter.get(e) ?? []) {
              sentPoison.set(kind, sentPoison.get(kind)! + 1);
              messages.push({ key: id, value: poison(kind, id, ts, rnd), headers: { poison: kind } });
            }
            if (rnd() < FLOOD_PER_MINUTE / INPUT.entities) {
              const once = `once-${i}-${e}`;
              messages.push({ key: once, value: encodeReading({ entityId: once, timestamp: ts, values: { cpu: 1, mem: 2, net: 3 } }, 'confluent', { schemaId: SCHEMA_ID }) });
              flood++;
            }
          }
          await producer.send({ topic: n.topic, acks: -1, messages });
        }
        const sentAt = Date.now();
        for (const k of phaseWindows(p)) expected.add(k);
        // Every valid window so far, then the idle expiry of every entity (so the commit reaches the end).
        await untilStored(n.database, expected.size, `valid windows among the poison, phase ${p + 1}`, 120_000);
        const recoveryMs = Date.now() - sentAt;
        await untilCommittedToEnd(kafka, n, 90_000);
        await run.waitFor(async () => (await metricOf(run, 'diffwatch_entities_live')) === 0, { what: 'every entity expired' });
        phases.push({ windows: expected.size, recoveryMs, rssMiB: rssMiB(run), heap: await heapAfterGc(run) });
      }
    } finally {
      await producer.disconnect();
    }
    const poisonSent = [...sentPoison.values()].reduce((a, b) => a + b, 0);
    await stopCleanly(run, 'diffwatch run');

    const diff = compareWindows(expected, await storedWindows(n.database));
    const dead = await readAll(kafka, `${n.topic}.dlq`);
    const deadByKind = new Map<string, number>();
    const codesByKind = new Map<string, Set<string>>();
    const huge: { bytes: number; original: number }[] = [];
    for (const m of dead) {
      const kind = m.headers?.poison?.toString() ?? 'not poison';
      deadByKind.set(kind, (deadByKind.get(kind) ?? 0) + 1);
      codesByKind.set(kind, (codesByKind.get(kind) ?? new Set()).add(String(m.headers?.[DLQ_HEADERS.code])));
      if (kind === '10mb') huge.push({ bytes: m.value?.length ?? 0, original: Number(m.headers?.[DLQ_HEADERS.originalBytes]) });
    }
    const alerts = await alertIds(kafka, n.anomalies);
    const [one, two] = phases;
    const heapGrowthMiB = Math.round((two.heap.probeMiB - one.heap.probeMiB) * 100) / 100;
    report({
      scenario: 'poison messages',
      inputMessages: valid + poisonSent + flood,
      faults: `${poisonSent} poison (${[...sentPoison].map(([k, v]) => `${k} ${v}`).join(', ')}) + ${flood} one-off entities, in ${PHASES} phases`,
      ...windowFigures(diff),
      dlq: dead.length,
      recoveryMs: Math.max(...phases.map((p) => p.recoveryMs)),
      dlqCodes: Object.fromEntries([...codesByKind].map(([k, v]) => [k, [...v].sort()])),
      dlq10mb: huge,
      heapAfterGcMiB: { start: heapStart, phase1: one.heap, phase2: two.heap, growth: heapGrowthMiB },
      rssMiB: { start: rssStart, phase1: one.rssMiB, phase2: two.rssMiB },
      phaseRecoveryMs: phases.map((p) => p.recoveryMs),
      alertDeliveries: alerts.deliveries,
      alertIdConflicts: alerts.conflicts,
      wallMs: Date.now() - wallStart,
    });
    expect(poisonSent, 'poison messages sent').toBeGreaterThanOrEqual(10_000);
    expect(diff.lost, `windows lost: ${sample(diff.lost)}`).toEqual([]);
    expect(diff.extra, `windows that the data does not have (the flood has none): ${sample(diff.extra)}`).toEqual([]);
    expect(dead.length, 'dead letters = poison messages').toBe(poisonSent);
    expect(Object.fromEntries(deadByKind), 'dead letters by poison kind').toEqual(Object.fromEntries(sentPoison));
    expect(codesByKind.get('wrong-schema-id'), 'a schema id the decoder does not know').toEqual(new Set(['SCHEMA_UNKNOWN']));
    expect(codesByKind.get('non-finite')).toEqual(new Set(['NON_FINITE_VALUE']));
    expect(codesByKind.get('absurd-timestamp')).toEqual(new Set(['RECORD_INVALID']));
    expect(codesByKind.get('oversize')).toEqual(new Set(['MESSAGE_TOO_LARGE']));
    expect(codesByKind.get('10mb')).toEqual(new Set(['MESSAGE_TOO_LARGE']));
    expect(codesByKind.get('tombstone')).toEqual(new Set(['DECODE_FAILED']));
    // A 10 MB message's dead letter holds its first ingest.maxMessageBytes and its full size.
    expect(huge.every((h) => h.bytes === MAX_MESSAGE_BYTES && h.original > HUGE_BYTES), `10 MB dead letters: ${JSON.stringify(huge)}`).toBe(true);
    expect(alerts.conflicts, 'alert ids shared by different events').toBe(0);
    expect(heapGrowthMiB, `heap after GC, end of phase 2 minus end of phase 1 (MiB): ${JSON.stringify(phases.map((p) => p.heap))}`).toBeLessThan(HEAP_GROWTH_LIMIT_MIB);
  });
});
