/**
 * Disk use of one day of diffwatch points, measured on the stack's InfluxDB 1.x.
 *
 * Writes one UTC day (yesterday) of `scores` points for N entities, one window every `--step-s`
 * seconds, through the real writer and point builder (4 channels: score, threshold, state,
 * likelihood, surprise and 4 contributions per point), with the retention policies and roll-ups
 * of src/sinks/retention.ts installed and the roll-ups backfilled for that day. Then it waits
 * until InfluxDB has snapshotted its in-memory cache to TSM files (the WAL of the database is
 * empty, which happens `cache-snapshot-write-cold-duration`, 10 min by default, after the last
 * write) and prints `du` of each retention policy's directory under `<stack>/influxdb/data/<db>`.
 * The TSM files are level-1 snapshots, not fully compacted (InfluxDB compacts fully after 4 h
 * cold), so the figures are an upper bound on the settled size.
 *
 *   npx tsx bench/storage.ts [--entities 20] [--step-s 10] [--keep]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/loadConfig.ts';
import { createInfluxHttp } from '../src/sinks/influxHttp.ts';
import { scorePoint } from '../src/sinks/influxPoints.ts';
import { createInfluxWriter } from '../src/sinks/influxWriter.ts';
import { ensureRetention } from '../src/sinks/retention.ts';
import { backfillStatement, rollupQueries } from '../src/sinks/rollups.ts';
import { mulberry32 } from '../src/random.ts';
import type { ScoredWindow } from '../src/types.ts';

const { values: args } = parseArgs({ options: { entities: { type: 'string', default: '20' }, 'step-s': { type: 'string', default: '10' }, keep: { type: 'boolean', default: false } } });
const N = Number(args.entities);
const STEP_MS = Number(args['step-s']) * 1_000;
const DAY_MS = 86_400_000;
const cfg = loadConfig();
const url = `http://127.0.0.1:${cfg.stack.influxPort}`;
const database = `storage_${Date.now().toString(36)}`;
const dataDir = join(cfg.stack.dir, 'influxdb', 'data', database);
const walDir = join(cfg.stack.dir, 'influxdb', 'wal', database);
const CHANNELS = ['temp', 'rpm', 'pressure', 'current'];

const dayEnd = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const dayStart = dayEnd - DAY_MS;
const random = mulberry32(7);

function window(entityId: string, endTime: number): ScoredWindow {
  const score = 1 + 2 * random();
  const isAnomaly = random() < 0.001;
  const shares = CHANNELS.map(() => random());
  const total = shares.reduce((a, b) => a + b, 0);
  return {
    window: { entityId, channels: CHANNELS, length: 0, startTime: endTime - 64 * STEP_MS, endTime, timestamps: new Float64Array(0), values: new Float32Array(0), hasGap: false, sources: [], releases: [] },
    score: { pointScores: new Float32Array(0), channelContributions: Float32Array.from(shares, (s) => s / total), score: isAnomaly ? 9 + random() : score, warmup: false },
    threshold: 6 + random() * 0.01, isAnomaly, scorer: 'diffusion', modelVersion: 'diffusion@1',
    likelihood: random(), surprise: 3 * random(),
  };
}

const duBytes = (dir: string) => (existsSync(dir) ? Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]) : 0);
/** Bytes in the database's WAL segment files: 0 once the cache is snapshotted to TSM. */
const walBytes = () => execFileSync('find', [walDir, '-name', '*.wal', '-printf', '%s\\n'], { encoding: 'utf8' }).split('\n').reduce((a, x) => a + Number(x || 0), 0);

const influx = { ...cfg.sinks.influx, url, database };
const writer = createInfluxWriter(influx, {});
await writer.ensureDatabase();
await ensureRetention(influx, { enabled: true, raw: '30d', minute: '365d', hour: 'INF' });
let points = 0;
let batch: ReturnType<typeof scorePoint>[] = [];
for (let t = dayStart + STEP_MS; t <= dayEnd; t += STEP_MS) {
  for (let e = 0; e < N; e++) batch.push(scorePoint(window(`entity-${String(e).padStart(3, '0')}`, t)));
  if (batch.length >= 5_000 || t + STEP_MS > dayEnd) {
    await writer.write(batch); // resolves once durable: one request per call
    points += batch.length;
    batch = [];
  }
}
await writer.close();
const http = createInfluxHttp(influx);
for (const q of rollupQueries()) await http.query(backfillStatement(database, q, dayStart, dayEnd + 1));
process.stderr.write(`wrote ${points} score points for ${N} entities into ${database}; waiting for the cache snapshot (WAL empty)\n`);
const t0 = Date.now();
while (walBytes() > 0 && Date.now() - t0 < 30 * 60_000) await new Promise((r) => setTimeout(r, 15_000));
const policies = Object.fromEntries(readdirSync(dataDir).map((rp) => [rp, duBytes(join(dataDir, rp))]));
const raw = policies.raw ?? 0;
console.log(JSON.stringify({
  database, entities: N, stepS: STEP_MS / 1_000, scorePoints: points, waitedS: Math.round((Date.now() - t0) / 1_000),
  walBytes: walBytes(), bytesByPolicy: policies,
  rawBytesPerPoint: +(raw / points).toFixed(2), rawBytesPerEntityDay: Math.round(raw / N),
  rollup1mBytesPerEntityDay: Math.round((policies.rollup_1m ?? 0) / N), rollup1hBytesPerEntityDay: Math.round((policies.rollup_1h ?? 0) / N),
}, null, 2));
if (!args.keep) await http.query(`DROP DATABASE "${database}"`);
