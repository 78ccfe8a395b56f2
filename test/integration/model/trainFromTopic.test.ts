/**
 * `diffwatch train --topic` against the real broker: two entities are replayed to one topic,
 * one entity's event-time range is trained on, and the checkpoint must say it saw exactly that
 * entity's rows in that range, nothing may be committed for any group, and `diffwatch score`
 * must work with the model. A topic that does not exist must fail with a message naming it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readCsvSeries } from '../../../src/ingest/csvSeries.ts';
import type { ModelManifest } from '../../../src/model/checkpoint.ts';
import { quantileSorted } from '../../../src/model/normalization.ts';
import { kafkaBrokers, kafkaClient, uniqueName } from '../helpers.ts';
import { NAB, committedOffsets, killAllDiffwatch, runDiffwatch } from '../service/runHelpers.ts';

const FILE = join(NAB, 'ec2_request_latency_system_failure.csv');
const ENTITY = 'machine-a';
const OTHER = 'machine-b';
/** Rows of the NAB file replayed for ENTITY; the training range is rows FROM_ROW … TO_ROW, both inclusive. */
const ROWS = 1_200;
const FROM_ROW = 200;
const TO_ROW = 900;
/** The smallest model the CLI accepts quickly: the test is about the data path, not the fit. */
const TINY_MODEL = ['--epochs', '1', '--window', '16', '--width', '8', '--depth', '1', '--embed', '8', '--T', '20', '--t0', '5', '--draws', '1', '--batch', '64', '--backend', 'wasm'];

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * OTHER's series: the same rows 2.5 minutes later (between ENTITY's 5-minute readings, so no
 * timestamp collides) and on another scale (×10 + 1000), ending before the range's last row so
 * that every one of its readings lies inside or before the range and is read, then filtered out.
 */
function writeOtherSeries(dir: string, series: ReturnType<typeof readCsvSeries>, rows: number): string {
  const file = join(dir, 'other.csv');
  const lines = ['timestamp,value'];
  for (let r = 0; r < rows; r++) lines.push(`${iso(series.timestamps[r] + 150_000)},${series.values[r] * 10 + 1000}`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/**
 * ENTITY's readings the range should yield, from the CSV: rows of the first `limit` whose time is
 * in [from, to], one per timestamp with the later row winning (the NAB file repeats a few
 * timestamps; readTopicRange keeps the reading read last), in time order.
 */
function expectedRange(series: ReturnType<typeof readCsvSeries>, limit: number, from: number, to: number): { timestamps: number[]; values: number[] } {
  const byTime = new Map<number, number>();
  for (let r = 0; r < limit; r++) if (series.timestamps[r] >= from && series.timestamps[r] <= to) byTime.set(series.timestamps[r], series.values[r]);
  const timestamps = [...byTime.keys()].sort((a, b) => a - b);
  return { timestamps, values: timestamps.map((t) => byTime.get(t)!) };
}

/** Groups holding a committed offset on any partition of `topic`. */
async function groupsWithOffsets(admin: Admin, topic: string): Promise<string[]> {
  const { groups } = await admin.listGroups();
  const out: string[] = [];
  for (const { groupId } of groups) {
    const offsets = await committedOffsets(admin, groupId, topic);
    if ([...offsets.values()].some((o) => o >= 0n)) out.push(groupId);
  }
  return out.sort();
}

afterEach(killAllDiffwatch);

describe('diffwatch train --topic', () => {
  const env = () => ({ KAFKA_BROKERS: kafkaBrokers().join(','), DIFFWATCH_LOG_LEVEL: 'warn' });
  let admin: Admin;

  beforeAll(async () => {
    admin = kafkaClient().admin();
    await admin.connect();
  });

  afterAll(() => admin?.disconnect());

  it("trains on exactly one entity's readings in the range, commits nothing, and the model scores a CSV", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diffwatch-train-topic-'));
    const topic = uniqueName('train-range');
    const serviceGroup = uniqueName('train-range-service');
    const series = readCsvSeries(FILE);
    const ts = series.timestamps;

    // OTHER first: its readings sit in the partition ahead of ENTITY's and must be skipped by entity, not by position.
    for (const [file, entity, limit] of [[writeOtherSeries(dir, series, TO_ROW), OTHER, TO_ROW], [FILE, ENTITY, ROWS]] as const) {
      const r = await runDiffwatch(['replay', '--file', file, '--topic', topic, '--entity', entity, '--limit', String(limit)], env());
      expect(r.code, r.stderr).toBe(0);
    }
    // A service group with a position on the topic: training must leave it where it is.
    await admin.setOffsets({ groupId: serviceGroup, topic, partitions: [{ partition: 0, offset: '123' }] });
    const serviceBefore = await committedOffsets(admin, serviceGroup, topic);

    const out = join(dir, 'model');
    const train = await runDiffwatch(['train', '--topic', topic, '--entity', ENTITY, '--from', iso(ts[FROM_ROW]), '--to', iso(ts[TO_ROW]), '--out', out, '--json', ...TINY_MODEL], env());
    expect(train.code, train.stderr).toBe(0);

    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as ModelManifest;
    expect(JSON.parse(train.stdout).version).toBe(manifest.version);
    expect(manifest.channels).toEqual(['value']);
    // Both ends inclusive, and only ENTITY's rows: OTHER has 700 readings inside the range.
    const expected = expectedRange(series, ROWS, ts[FROM_ROW], ts[TO_ROW]);
    expect(expected.timestamps.length).toBeGreaterThan(600);
    expect(manifest.trainingData).toMatchObject({ firstTimestamp: ts[FROM_ROW], lastTimestamp: ts[TO_ROW], rows: expected.timestamps.length });
    // The scaler's median is fitted on the first trainRows rows it was given: ENTITY's own values,
    // in time order. Any reading of OTHER (×10 + 1000) among them would move it far off.
    const trainValues = Float64Array.from(expected.values.slice(0, manifest.trainingData.trainRows)).sort();
    expect(manifest.normalization.center[0]).toBeCloseTo(quantileSorted(trainValues, 0.5), 9);

    expect(await committedOffsets(admin, serviceGroup, topic)).toEqual(serviceBefore);
    expect(await groupsWithOffsets(admin, topic)).toEqual([serviceGroup]);

    // The checkpoint scores a CSV of ENTITY's series through `diffwatch score`.
    const csv = join(dir, 'score-input.csv');
    writeFileSync(csv, readFileSync(FILE, 'utf8').split('\n').slice(0, 301).join('\n') + '\n');
    const scored = join(dir, 'scores.csv');
    const score = await runDiffwatch(['score', '--model', out, '--file', csv, '--out', scored, '--backend', 'wasm'], env());
    expect(score.code, score.stderr).toBe(0);
    const lines = readFileSync(scored, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('timestamp,score');
    expect(lines).toHaveLength(301);
    const scores = lines.slice(1).map((l) => l.split(',')[1]);
    expect(scores.slice(0, 15).every((s) => s === '')).toBe(true); // window 16: no full window behind the first 15 rows
    expect(scores.slice(15).every((s) => Number.isFinite(Number(s)) && s !== '' && Number(s) >= 0)).toBe(true);
  });

  it('trains an entity replayed after another whose readings run past the range', async () => {
    // `diffwatch replay` of two histories, one after the other: on the shared partition every
    // reading of the first entity, including those after the range, comes before the second's.
    const topic = uniqueName('train-second');
    for (const entity of [OTHER, ENTITY]) {
      const r = await runDiffwatch(['replay', '--file', FILE, '--topic', topic, '--entity', entity, '--limit', String(ROWS)], env());
      expect(r.code, r.stderr).toBe(0);
    }
    const ts = readCsvSeries(FILE).timestamps;
    const out = join(mkdtempSync(join(tmpdir(), 'diffwatch-train-second-')), 'model');
    const train = await runDiffwatch(['train', '--topic', topic, '--entity', ENTITY, '--from', iso(ts[FROM_ROW]), '--to', iso(ts[TO_ROW]), '--out', out, ...TINY_MODEL], env());
    expect(train.code, train.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as ModelManifest;
    const expected = expectedRange(readCsvSeries(FILE), ROWS, ts[FROM_ROW], ts[TO_ROW]);
    expect(manifest.trainingData).toMatchObject({ firstTimestamp: ts[FROM_ROW], lastTimestamp: ts[TO_ROW], rows: expected.timestamps.length });
  });

  it('fails with a message naming a topic that does not exist, and does not create it', async () => {
    const topic = uniqueName('train-missing');
    const r = await runDiffwatch(['train', '--topic', topic, '--entity', ENTITY, '--from', iso(Date.UTC(2014, 2, 1)), '--to', iso(Date.UTC(2014, 2, 2)), '--out', join(tmpdir(), uniqueName('model')), ...TINY_MODEL], env(), 60_000);
    expect(r.code).not.toBe(0);
    // The CLI's one-line error (src/cli/main.ts), not a kafkajs stack trace.
    expect(r.stderr).toMatch(new RegExp(`diffwatch train: [^\\n]*${topic}`));
    expect(await admin.listTopics()).not.toContain(topic);
  });
});
