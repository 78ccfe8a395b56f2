/**
 * Helpers of the fault suite: a known input (many entities, several channels, one reading per
 * minute), the exact set of windows it holds, what InfluxDB, the dead-letter topic and the
 * anomalies topic hold after a run, and one JSON line of figures per scenario.
 *
 *   await produceReadings(kafka, topic, INPUT, { from: 0, to: 40 });
 *   const diff = compareWindows(expectedWindows(INPUT), await storedWindows(database));
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InfluxDB } from 'influx';
import { Partitioners, type Kafka, type KafkaMessage } from 'kafkajs';
import { createAnomalyCodec, encodeReading } from '../../src/ingest/codec/index.ts';
import { mulberry32 } from '../../src/random.ts';
import { influxUrl, uniqueName, waitUntil } from '../integration/helpers.ts';
import { ROOT } from '../integration/service/runHelpers.ts';

export const MINUTE = 60_000;
/** 2020-01-01T00:00:00Z: the first reading of every entity. */
export const T0 = Date.UTC(2020, 0, 1);

export interface Input {
  entities: number;
  /** Readings per entity, one per minute from T0. */
  readings: number;
  channels: readonly string[];
  /** Window length L (hop 1). */
  window: number;
}

export const entityId = (e: number): string => `ent-${String(e).padStart(5, '0')}`;

/** Reading `i` of entity `e`: a daily-ish wave per channel plus seeded noise, so that no two entities match. */
export function readingValues(input: Input, e: number, i: number): Record<string, number> {
  const rnd = mulberry32(e * 100_003 + i);
  const values: Record<string, number> = {};
  input.channels.forEach((c, k) => (values[c] = 10 * (k + 1) + Math.sin((i + e) / 7 + k) + 0.1 * rnd()));
  return values;
}

/**
 * Produce readings [from, to) of every entity as JSON, keyed by entity (the Java-compatible
 * partitioner, as `diffwatch replay`), minute by minute across entities; returns the count.
 */
export async function produceReadings(kafka: Kafka, topic: string, input: Input, range: { from: number; to: number }): Promise<number> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  let n = 0;
  try {
    let messages: { key: string; value: Buffer }[] = [];
    const flush = async () => {
      if (messages.length === 0) return;
      await producer.send({ topic, acks: -1, messages });
      n += messages.length;
      messages = [];
    };
    for (let i = range.from; i < range.to; i++) {
      for (let e = 0; e < input.entities; e++) {
        const id = entityId(e);
        messages.push({ key: id, value: encodeReading({ entityId: id, timestamp: T0 + i * MINUTE, values: readingValues(input, e, i) }, 'json') });
        if (messages.length >= 5_000) await flush();
      }
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  return n;
}

/** The key of a window in the sets compared here: entity and window end, to the minute. */
export const windowKey = (entity: string, endMs: number) => `${entity}@${new Date(endMs).toISOString().slice(0, 16)}`;

/** Every (entity, window end) pair of the input: window k ends at reading k + L - 1. */
export function expectedWindows(input: Input, entities: (e: number) => boolean = () => true): Set<string> {
  const out = new Set<string>();
  for (let e = 0; e < input.entities; e++) {
    if (!entities(e)) continue;
    for (let i = input.window - 1; i < input.readings; i++) out.add(windowKey(entityId(e), T0 + i * MINUTE));
  }
  return out;
}

export function influxOf(database: string, url = influxUrl()): InfluxDB {
  const u = new URL(url);
  return new InfluxDB({ host: u.hostname, port: Number(u.port), database });
}

/** The (entity, window end) pairs in `scores` (a rewritten point overwrites, so each appears once). */
export async function storedWindows(database: string, url?: string): Promise<Set<string>> {
  const rows = await influxOf(database, url).query<{ time: Date; entity: string }>('SELECT "score" FROM "scores" GROUP BY "entity"');
  return new Set(rows.map((r) => windowKey(r.entity, r.time.getTime())));
}

/** Points in `scores`: a cheap progress probe (0 while the database does not exist yet). */
export async function storedCount(database: string, url?: string): Promise<number> {
  try {
    const rows = await influxOf(database, url).query<{ count: number }>('SELECT count("score") AS count FROM "scores"');
    return rows[0]?.count ?? 0;
  } catch {
    return 0;
  }
}

export interface WindowDiff {
  expected: number;
  stored: number;
  /** Expected and not stored. */
  lost: string[];
  /** Stored and not expected: windows that do not exist in the data. */
  extra: string[];
}

export function compareWindows(expected: ReadonlySet<string>, stored: ReadonlySet<string>): WindowDiff {
  return {
    expected: expected.size,
    stored: stored.size,
    lost: [...expected].filter((k) => !stored.has(k)),
    extra: [...stored].filter((k) => !expected.has(k)),
  };
}

/** Every message of `topic` (all partitions, up to the end offsets now). */
export async function readAll(kafka: Kafka, topic: string): Promise<KafkaMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  let total = 0;
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) return [];
    total = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
  if (total === 0) return [];
  const out: KafkaMessage[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('faults-reader') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void out.push(message) });
    await waitUntil(() => out.length >= total, { timeoutMs: 60_000, what: `${total} messages of ${topic}` });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/**
 * Alert events of the anomalies topic: `deliveries` counts every message, `events` the distinct
 * event ids, and `conflicts` the ids shared by two different events (must be 0). A replayed
 * window raises its event again with the same id (at-least-once), which consumers deduplicate.
 */
export async function alertIds(kafka: Kafka, topic: string): Promise<{ deliveries: number; events: number; conflicts: number }> {
  const codec = createAnomalyCodec();
  const byId = new Map<string, string>();
  let deliveries = 0;
  let conflicts = 0;
  for (const m of await readAll(kafka, topic)) {
    const e = codec.decode(m.value!);
    deliveries++;
    const what = `${e.entityId}|${e.kind}|${e.state}|${e.endTime}`;
    const seen = byId.get(e.eventId);
    if (seen === undefined) byId.set(e.eventId, what);
    else if (seen !== what) conflicts++;
  }
  return { deliveries, events: byId.size, conflicts };
}

export interface Figures {
  scenario: string;
  inputMessages: number;
  faults: string;
  windowsExpected: number;
  windowsScored: number;
  /** Stored windows that do not exist in the data. */
  duplicates: number;
  lost: number;
  dlq: number;
  recoveryMs: number;
  [more: string]: unknown;
}

/** The window figures of a report, from the comparison of the stored set with the expected one. */
export function windowFigures(diff: WindowDiff): Pick<Figures, 'windowsExpected' | 'windowsScored' | 'duplicates' | 'lost'> {
  return { windowsExpected: diff.expected, windowsScored: diff.stored, duplicates: diff.extra.length, lost: diff.lost.length };
}

/** Prints the scenario's figures as one JSON line, and appends it to out/faults/figures.jsonl. */
export function report(f: Figures): void {
  const line = JSON.stringify({ ...f, at: new Date().toISOString() });
  console.log(line);
  const dir = join(ROOT, 'out/faults');
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, 'figures.jsonl'), `${line}\n`);
}

/** A few keys of a list, for failure messages. */
export const sample = (keys: readonly string[], n = 8): string => `${keys.length}: ${keys.slice(0, n).join(', ')}${keys.length > n ? ', ...' : ''}`;
