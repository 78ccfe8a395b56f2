/**
 * Helpers of the detection integration tests on NAB's machine_temperature_system_failure:
 * train the diffusion model on the series' probationary part with the CLI, configure
 * `diffwatch run` for detection on it, read back the alert events (real codec) and the window
 * states (InfluxDB), and sum the run up against NAB's label windows.
 *
 * The detection settings live here once (DETECT_NAB) and are explained in docs/detection.md,
 * "Detection on a labelled series".
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InfluxDB } from 'influx';
import type { Kafka } from 'kafkajs';
import { expect } from 'vitest';
import { MODEL_ALERT_KIND } from '../../../src/detect/detector.ts';
import { createAnomalyCodec } from '../../../src/ingest/codec/index.ts';
import { parseTimestamp, readCsvSeries } from '../../../src/ingest/csvSeries.ts';
import type { AnomalyEvent } from '../../../src/types.ts';
import { uniqueName } from '../helpers.ts';
import { NAB, runDiffwatch, writeConfig } from '../service/runHelpers.ts';

export const NAB_FILE = 'machine_temperature_system_failure.csv';
export const FILE = join(NAB, NAB_FILE);
export const ENTITY = 'machine-temp';
/** Window length L, in points (5-minute readings: 2 h 35 min of context). */
export const WINDOW = 32;
/** Readings in the file. */
export const ROWS = readCsvSeries(FILE).timestamps.length;
/** NAB's probationary period: the first 15 % of the rows (floor), never scored by NAB. */
export const PROBATION_ROWS = Math.floor(0.15 * ROWS);
/** Windows ending inside the probationary part: window k ends at row k + L - 1. */
export const PROBATION_WINDOWS = PROBATION_ROWS - WINDOW + 1;

/**
 * Model hyper-parameters (flags of `diffwatch train`). A small net that trains in about 20 s on
 * two busy cores: stride 2 halves the windows per epoch; 12 epochs because the validation loss
 * still fell at 6; 8 noise draws per scored window, because a single-point score with 4 draws
 * was noisy enough to cross the threshold on normal data.
 */
export const MODEL_FLAGS = ['--window', String(WINDOW), '--width', '32', '--depth', '3', '--stride', '2', '--epochs', '12', '--patience', '12', '--draws', '8', '--seed', '1'];

/**
 * The detection settings of this series; everything else is DEFAULTS (SPOT, q = 1e-4).
 * None of them reads the labels: each follows from what an operator knows (which rows trained
 * the model, the sampling period).
 */
export const DETECT_NAB = {
  threshold: {
    // The model is not asked to judge the rows it was trained on (NAB does not score them either).
    warmupWindows: PROBATION_WINDOWS,
    // SPOT calibrates on (nearly) all of them: ~10 days of scores instead of ~3.5.
    nInit: 3_000,
  },
  // A machine whose readings come every 5 minutes: a re-trigger within a day of a resolution is
  // the same incident (same alert id), not a new page.
  lifecycle: { cooldownMs: 24 * 3_600_000, openAfterWindows: 3 },
};

/** The rows of the probationary part as a CSV in a fresh temporary directory. */
export function probationCsv(): string {
  const lines = readFileSync(FILE, 'utf8').split(/\r?\n/).filter((l) => l.trim().length > 0);
  const file = join(mkdtempSync(join(tmpdir(), 'diffwatch-nab-')), 'probation.csv');
  writeFileSync(file, lines.slice(0, PROBATION_ROWS + 1).join('\n') + '\n');
  return file;
}

export interface TrainedModel {
  dir: string;
  version: string;
  seconds: number;
}

/** `diffwatch train` on the probationary part; the checkpoint goes to a fresh temporary directory. */
export async function trainOnProbation(env: Record<string, string>): Promise<TrainedModel> {
  const dir = join(mkdtempSync(join(tmpdir(), 'diffwatch-model-')), 'model');
  const exit = await runDiffwatch(['train', '--file', probationCsv(), '--out', dir, '--json', ...MODEL_FLAGS], env, 180_000);
  expect(exit.code, exit.stderr.slice(-4000)).toBe(0);
  const summary = JSON.parse(exit.stdout.trim().split('\n').pop()!) as { version: string; seconds: number; trainingData: { rows: number } };
  expect(summary.trainingData.rows).toBe(PROBATION_ROWS);
  return { dir, version: summary.version, seconds: summary.seconds };
}

/** Names of one service run: its own group, detector state, database and anomalies topic. */
export interface RunNames {
  groupId: string;
  stateTopic: string;
  database: string;
  anomalies: string;
}

export function runNames(prefix: string): RunNames {
  return {
    groupId: uniqueName(`${prefix}-group`),
    stateTopic: uniqueName(`${prefix}-state`),
    database: uniqueName(prefix).replace(/-/g, '_'),
    anomalies: uniqueName(`${prefix}-anomalies`),
  };
}

/** A `diffwatch run` config file: the diffusion scorer with `modelDir`, DETECT_NAB, and `names`. */
export function runConfig(topic: string, modelDir: string, names: RunNames): string {
  return writeConfig({
    // A SIGKILLed member is only evicted after the session timeout: the broker's minimum, not 30 s.
    kafka: { topics: [topic], groupId: names.groupId, commitIntervalMs: 200, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 },
    stream: { windowLength: WINDOW, hop: 1 },
    scorer: { kind: 'diffusion', diffusion: { modelDir } },
    detect: { stateTopic: names.stateTopic, ...DETECT_NAB },
    sinks: { anomaliesTopic: names.anomalies, influx: { database: names.database } },
  });
}

/** One message of the anomalies topic, decoded with the service's codec. */
export interface ReadEvent {
  offset: string;
  event: AnomalyEvent;
}

/** Every message of `topic` (one partition or more), decoded with the real codec, in offset order per partition. */
export async function readAnomalies(kafka: Kafka, topic: string): Promise<ReadEvent[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  await admin.disconnect();
  const remaining = new Set([...ends].filter(([, end]) => end > 0n).map(([p]) => p));
  if (remaining.size === 0) return [];
  const codec = createAnomalyCodec();
  const out: ReadEvent[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('read-anomalies') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let finish!: () => void;
    const done = new Promise<void>((res) => (finish = res));
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (!message.value) throw new Error(`${topic}/${partition}@${message.offset}: null value`);
        out.push({ offset: message.offset, event: codec.decode(message.value) });
        if (BigInt(message.offset) + 1n >= ends.get(partition)!) remaining.delete(partition);
        if (remaining.size === 0) finish();
      },
    });
    await done;
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** Label windows of the file (data/nab/windows.json), epoch ms, inclusive. */
export function labelWindows(): { start: number; end: number }[] {
  const all = JSON.parse(readFileSync(join(NAB, 'windows.json'), 'utf8')) as Record<string, [string, string][]>;
  const where = { file: 'windows.json', line: 0 };
  return all[`realKnownCause/${NAB_FILE}`].map(([a, b]) => ({ start: parseTimestamp(a, where), end: parseTimestamp(b, where) }));
}

/** One `scores` point: window end time, state and threshold. */
export interface ScoreRow {
  time: number;
  state: string;
  threshold: number | null;
}

/** The `scores` points of one entity, in time order. */
export async function scoreRows(influx: InfluxDB, entity: string): Promise<ScoreRow[]> {
  const rows = await influx.query<{ time: Date; state: string; threshold: number | null }>(`SELECT "state", "threshold" FROM "scores" WHERE "entity" = '${entity}' ORDER BY time ASC`);
  return rows.map((r) => ({ time: r.time.getTime(), state: r.state, threshold: r.threshold }));
}

/** End time of the last window written with `state = 'warmup'` (-Infinity when none). */
export function warmupEnd(rows: readonly ScoreRow[]): number {
  let last = -Infinity;
  for (const r of rows) if (r.state === 'warmup') last = Math.max(last, r.time);
  return last;
}

export interface WindowOutcome {
  start: string;
  end: string;
  /** The window lies (partly) in the warm-up: the detector could not judge it. */
  inWarmup: boolean;
  /**
   * End time of the first model `open` event from the window's start to one window length after
   * its end (and before the next window): inside, a detection; after the end, a late one.
   */
  firstOpen: string | null;
  /** That event lies inside the window. */
  detected: boolean;
  /** Hours from the window's start to the first alert inside it. */
  delayHours: number | null;
}

export interface DetectionSummary {
  windows: WindowOutcome[];
  /** Distinct model incidents (alert ids) that started outside every label window. */
  falseIncidents: { startTime: string; score: number; threshold: number }[];
  /** Distinct model incidents. */
  incidents: number;
  /** Events of other kinds (rules), by kind. */
  otherKinds: Record<string, number>;
}

const iso = (t: number) => new Date(t).toISOString();

/** What a replay reproduces: the event without `detectedAt`, the wall-clock time it was raised. */
export function replayable(e: AnomalyEvent): Omit<AnomalyEvent, 'detectedAt'> {
  const { detectedAt: _, ...rest } = e;
  return rest;
}

/** Distinct events by id, first occurrence kept, in the order read. */
export function distinctEvents(read: readonly ReadEvent[]): AnomalyEvent[] {
  const seen = new Map<string, AnomalyEvent>();
  for (const { event } of read) if (!seen.has(event.eventId)) seen.set(event.eventId, event);
  return [...seen.values()];
}

/** What the run found, NAB-style: per label window the first model alert, and the false incidents. */
export function summarise(events: readonly AnomalyEvent[], labels: readonly { start: number; end: number }[], warmEnd: number, seriesEnd: number): DetectionSummary {
  const opens = events.filter((e) => e.kind === MODEL_ALERT_KIND && e.state === 'open').sort((a, b) => a.endTime - b.endTime);
  const inAny = (t: number) => labels.some((w) => t >= w.start && t <= w.end);
  const windows = labels.map((w, i): WindowOutcome => {
    const until = Math.min(labels[i + 1]?.start ?? Infinity, seriesEnd + 1, w.end + (w.end - w.start) + 1);
    const first = opens.find((e) => e.endTime >= w.start && e.endTime < until);
    const detected = first !== undefined && first.endTime <= w.end;
    return {
      start: iso(w.start),
      end: iso(w.end),
      inWarmup: w.start <= warmEnd,
      firstOpen: first ? iso(first.endTime) : null,
      detected,
      delayHours: detected ? (first.endTime - w.start) / 3_600_000 : null,
    };
  });
  const incidents = new Map<string, AnomalyEvent>();
  for (const e of opens) {
    // An incident re-opened within its cooldown keeps its start time (and alert id): count it once.
    const key = `${e.startTime}`;
    if (!incidents.has(key)) incidents.set(key, e);
  }
  const falseIncidents = [...incidents.values()].filter((e) => !inAny(e.startTime)).map((e) => ({ startTime: iso(e.startTime), score: e.score, threshold: e.threshold }));
  const otherKinds: Record<string, number> = {};
  for (const e of events) if (e.kind !== MODEL_ALERT_KIND) otherKinds[e.kind] = (otherKinds[e.kind] ?? 0) + 1;
  return { windows, falseIncidents, incidents: incidents.size, otherKinds };
}
