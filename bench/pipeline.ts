/**
 * Replay-to-InfluxDB throughput of `diffwatch run` with the baseline scorer.
 *
 * Each run gets its own topic (one partition per entity), consumer group and database. The NAB
 * series is produced first, repeated once per entity, so that the service only consumes; then
 * `diffwatch run --until-idle 2` starts as a child process and the clock runs from its spawn
 * until every expected `scores` point is in InfluxDB. Runs are repeated and the median reported.
 *
 *   npx tsx bench/pipeline.ts [--runs 3] [--entities 1] [--window 64] [--hop 1] [--rows <n>]
 *                             [--file <csv>] [--json] [--cpu-prof <dir>]
 *
 * With KAFKA_BROKERS / INFLUX_URL set it uses those services; otherwise it starts the local stack.
 * See bench/README.md for what each figure means.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InfluxDB } from 'influx';
import { Kafka, logLevel } from 'kafkajs';
import { Command, numberFlag } from '../src/cli/command.ts';
import { ConfigError, DiffwatchError } from '../src/errors.ts';
import { encodeReading } from '../src/ingest/codec/index.ts';
import { readCsvSeries, type CsvSeries } from '../src/ingest/csvSeries.ts';
import { rootLogger } from '../src/log.ts';
import { waitFor } from '../src/stack/waitFor.ts';
import { cleanUp, deepMerge, ensureServices, influxClient, parseOverride, sampleProc, uniqueName, type ProcSample, type Services } from './common.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/diffwatch.js');
const DEFAULT_FILE = 'data/nab/machine_temperature_system_failure.csv';
/** s of silence after which the service exits (`--until-idle`). */
const UNTIL_IDLE_S = 2;
/** ms between two InfluxDB counts (and two reads of the service's /proc figures). */
const POLL_MS = 100;
/** ms a single run may take before it is declared failed. */
const RUN_TIMEOUT_MS = 10 * 60_000;
/** ms the service may take to exit once every point is written (idle wait, drain, final commit). */
const EXIT_TIMEOUT_MS = 60_000;
/** Messages per producer request. */
const PRODUCE_BATCH = 1_000;

const log = rootLogger.namespace('bench.pipeline');

interface Options {
  runs: number;
  entities: number;
  /** Window length L, in points. */
  window: number;
  /** Hop h, in points. */
  hop: number;
  /** Rows of the CSV replayed per entity. */
  rows: number;
  file: string;
  json: boolean;
  /** Write a V8 CPU profile of each service run into this folder. */
  cpuProfDir?: string;
  /** Copy the service's log lines to stderr. */
  verbose: boolean;
  /** Config keys merged over the benchmark's service config, e.g. `{"scorer":{"microBatchSize":1024}}`. */
  override: Record<string, unknown>;
}

/** One run's figures. Times are seconds from the spawn of the service. */
export interface RunResult {
  readings: number;
  windows: number;
  points: number;
  produceS: number;
  firstPointS: number;
  allPointsS: number;
  /** When the service logged `stopped`: drained, flushed and committed. */
  stoppedS: number | null;
  exitS: number;
  readingsPerS: number;
  windowsPerS: number;
  /** readings / (allPointsS - firstPointS): the rate once the service is up and writing. */
  steadyReadingsPerS: number;
  /** VmHWM of the service process, MiB; null where /proc is unavailable. */
  peakRssMiB: number | null;
  /** CPU time (user + system) of the service process over its whole life, s; null without /proc. */
  cpuS: number | null;
  partitionPauses: number;
  /** Messages dead-lettered by ingest (undecodable, invalid). */
  deadLettered: number;
  /** Readings dead-lettered as late (older than the entity's previous reading). */
  lateRecords: number;
}

function parseOptions(argv: string[]): Options {
  const n = (flag: string) => numberFlag(`--${flag}`);
  const f = new Command('bench:pipeline')
    .option('--file <csv>').option('--runs <n>', '', n('runs'), 3).option('--entities <n>', '', n('entities'), 1)
    .option('--window <n>', '', n('window'), 64).option('--hop <n>', '', n('hop'), 1).option('--rows <n>', '', n('rows'), Infinity)
    .option('--json').option('--cpu-prof <dir>').option('--verbose').option('--override <json>')
    .parse(argv, { from: 'user' }).opts();
  const opts: Options = {
    runs: f.runs, entities: f.entities, window: f.window, hop: f.hop, rows: f.rows,
    file: resolve(ROOT, f.file ?? DEFAULT_FILE),
    json: f.json === true,
    cpuProfDir: f.cpuProf,
    verbose: f.verbose === true,
    override: parseOverride(f.override),
  };
  for (const k of ['runs', 'entities', 'window', 'hop'] as const) {
    if (!(Number.isInteger(opts[k]) && opts[k] >= 1)) throw new ConfigError(`--${k}`, `must be an integer >= 1, got ${opts[k]}`);
  }
  if (opts.hop > opts.window) throw new ConfigError('--hop', `must be at most --window (${opts.window})`);
  return opts;
}

/**
 * Windows and distinct `scores` points one entity yields, mirroring the service's defaults:
 * with no allowed lateness a reading older than the last accepted one is dead-lettered, and
 * with no step alignment every accepted reading is a row. Windows end at rows L-1, L-1+h, ...
 * A point's identity is (entity, end time), so windows ending at a repeated timestamp share one.
 */
export function expectedScores(timestamps: ArrayLike<number>, windowLength: number, hop: number): { windows: number; points: number; late: number } {
  const accepted: number[] = [];
  let late = 0;
  for (let i = 0; i < timestamps.length; i++) {
    const t = timestamps[i];
    if (accepted.length > 0 && t < accepted[accepted.length - 1]) late++;
    else accepted.push(t);
  }
  const ends = new Set<number>();
  let windows = 0;
  for (let r = windowLength - 1; r < accepted.length; r += hop) {
    windows++;
    ends.add(accepted[r]);
  }
  return { windows, points: ends.size, late };
}

/** Entity e's copy of the series goes to partition e, so that entities spread over the partitions. */
async function produce(kafka: Kafka, topic: string, series: CsvSeries, opts: Options): Promise<number> {
  const producer = kafka.producer();
  await producer.connect();
  const started = performance.now();
  const C = series.channels.length;
  try {
    for (let e = 0; e < opts.entities; e++) {
      const entityId = `machine-${e}`;
      for (let start = 0; start < opts.rows; start += PRODUCE_BATCH) {
        const messages = [];
        for (let r = start; r < Math.min(opts.rows, start + PRODUCE_BATCH); r++) {
          const values: Record<string, number> = {};
          for (let c = 0; c < C; c++) values[series.channels[c]] = series.values[r * C + c];
          messages.push({ key: entityId, partition: e, value: encodeReading({ entityId, timestamp: series.timestamps[r], values }, 'avro') });
        }
        await producer.send({ topic, acks: -1, messages });
      }
    }
  } finally {
    await producer.disconnect();
  }
  return (performance.now() - started) / 1000;
}

interface ServiceRun {
  firstPointS: number;
  allPointsS: number;
  /** When the service logged `stopped` (sinks flushed, offsets committed); undefined if it never did. */
  stoppedS?: number;
  exitS: number;
  points: number;
  proc?: ProcSample;
  metrics: Record<string, number>;
}

/** The `metrics` of the service's `stopped` log line (info level). */
function stoppedMetrics(stderr: string): Record<string, number> {
  for (const line of stderr.split('\n').reverse()) {
    if (!line.includes('"msg":"stopped"')) continue;
    try {
      return (JSON.parse(line) as { metrics?: Record<string, number> }).metrics ?? {};
    } catch {
      return {};
    }
  }
  return {};
}

/** Spawns the service, polls InfluxDB until `expected` points are there, then waits for its exit. */
async function runService(cfgFile: string, services: Services, influx: InfluxDB, expected: number, opts: Options): Promise<ServiceRun> {
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  const env = { ...process.env, KAFKA_BROKERS: services.brokers.join(','), INFLUX_URL: services.influxUrl, DIFFWATCH_LOG_LEVEL: 'info' };
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'run', '--config', cfgFile, '--until-idle', String(UNTIL_IDLE_S)], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const since = () => (performance.now() - t0) / 1000;
  let stderr = '';
  let stoppedS: number | undefined;
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-200_000);
    if (stoppedS === undefined && stderr.includes('"msg":"stopped"')) stoppedS = since();
    if (opts.verbose) process.stderr.write(d);
  });
  const exited = new Promise<{ code: number | null; at: number }>((res) => child.once('exit', (code) => res({ code, at: since() })));
  let exit: { code: number | null; at: number } | undefined;
  void exited.then((e) => (exit = e));
  // VmHWM and CPU time only grow, so the last read before the exit is the total (to within one poll).
  let proc: ProcSample | undefined;
  const procTimer = setInterval(() => (proc = sampleProc(child.pid!) ?? proc), POLL_MS);
  const fail = (why: string) => new DiffwatchError('BENCH_FAILED', `${why}\n${stderr.slice(-4000)}`, { coords: { expected } });

  const count = async () => {
    // Before the service has created the database the query fails: that counts as 0.
    const rows = await influx.query<{ count: number }>('SELECT count("score") AS count FROM "scores"').catch(() => []);
    return rows[0]?.count ?? 0;
  };
  let firstPointS: number | undefined;
  let points = 0;
  try {
    const allPointsS = await waitFor(
      async () => {
        points = await count();
        if (points > 0) firstPointS ??= since();
        return points >= expected ? since() : undefined;
      },
      {
        timeoutMs: RUN_TIMEOUT_MS,
        intervalMs: POLL_MS,
        what: `${expected} scores points`,
        abortIf: () => {
          if (exit) throw fail(`the service exited (code ${exit.code}) with ${points} of ${expected} points written`);
        },
      },
    );
    const { code, at } = await waitFor(async () => exit, { timeoutMs: EXIT_TIMEOUT_MS, intervalMs: POLL_MS, what: 'the service to exit' }).catch(() => {
      throw fail(`every point was written after ${allPointsS.toFixed(1)} s, but the service had not exited ${EXIT_TIMEOUT_MS / 1000} s later`);
    });
    if (code !== 0) throw fail(`the service exited with code ${code}`);
    points = await count();
    if (points !== expected) throw fail(`expected exactly ${expected} scores points, found ${points}`);
    return { firstPointS: firstPointS ?? allPointsS, allPointsS, stoppedS, exitS: at, points, proc, metrics: stoppedMetrics(stderr) };
  } finally {
    clearInterval(procTimer);
    if (!exit) child.kill('SIGKILL');
  }
}

async function runOnce(i: number, opts: Options, series: CsvSeries, services: Services): Promise<RunResult> {
  const topic = uniqueName('bench-telemetry');
  const anomalies = uniqueName('bench-anomalies');
  const groupId = uniqueName('bench-group');
  const database = uniqueName('bench').replace(/-/g, '_');
  const kafka = new Kafka({ clientId: 'bench-pipeline', brokers: services.brokers, logLevel: logLevel.NOTHING });
  const influx = influxClient(services.influxUrl, database);
  const topics = [topic, `${topic}.dlq`, anomalies];
  const dir = mkdtempSync(join(tmpdir(), 'bench-pipeline-'));
  try {
    const admin = kafka.admin();
    await admin.connect();
    // The dead-letter and anomalies topics exist up front, so that no run times their auto-creation.
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: opts.entities }, { topic: topics[1] }, { topic: anomalies }] });
    await admin.disconnect();
    const produceS = await produce(kafka, topic, series, opts);
    const config = {
      kafka: { topics: [topic], groupId },
      stream: { windowLength: opts.window, hop: opts.hop },
      scorer: { kind: 'baseline' },
      // A fresh state topic: a run must not resume the detector state of an earlier run.
      detect: { stateTopic: `${topic}.state` },
      // NAB timestamps (2013–2015) are older than any raw retention: keep raw points forever.
      sinks: { anomaliesTopic: anomalies, influx: { database }, retention: { raw: 'INF' } },
    };
    const cfgFile = join(dir, 'config.json');
    writeFileSync(cfgFile, JSON.stringify(deepMerge(config, opts.override)));
    const one = expectedScores(series.timestamps.subarray(0, opts.rows), opts.window, opts.hop);
    log.info('run started', { run: i + 1, topic, readings: opts.rows * opts.entities, expectedPoints: one.points * opts.entities });
    const s = await runService(cfgFile, services, influx, one.points * opts.entities, opts);
    return summarise(opts, one.windows * opts.entities, produceS, s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await cleanUp(kafka, influx, { topics, groupIds: [groupId], database }, log);
  }
}

function summarise(opts: Options, windows: number, produceS: number, s: ServiceRun): RunResult {
  const readings = opts.rows * opts.entities;
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return {
    readings,
    windows,
    points: s.points,
    produceS: r3(produceS),
    firstPointS: r3(s.firstPointS),
    allPointsS: r3(s.allPointsS),
    stoppedS: s.stoppedS === undefined ? null : r3(s.stoppedS),
    exitS: r3(s.exitS),
    readingsPerS: Math.round(readings / s.allPointsS),
    windowsPerS: Math.round(windows / s.allPointsS),
    steadyReadingsPerS: Math.round(readings / Math.max(s.allPointsS - s.firstPointS, 1e-3)),
    peakRssMiB: s.proc ? Math.round(s.proc.peakRssKiB / 1024) : null,
    cpuS: s.proc ? r3(s.proc.cpuS) : null,
    partitionPauses: s.metrics.diffwatch_partition_pauses_total ?? 0,
    deadLettered: s.metrics.diffwatch_dead_lettered_total ?? 0,
    lateRecords: s.metrics.diffwatch_late_records_total ?? 0,
  };
}

/** Median of each field over the runs (the mean of the middle two for an even count). */
export function medianRun(runs: readonly RunResult[]): RunResult {
  const keys = Object.keys(runs[0]) as Array<keyof RunResult>;
  const out = {} as Record<keyof RunResult, number | null>;
  for (const k of keys) {
    const xs = runs.map((r) => r[k]).filter((x): x is number => x !== null).sort((a, b) => a - b);
    const m = xs.length >>> 1;
    out[k] = xs.length === 0 ? null : xs.length % 2 === 1 ? xs[m] : Math.round(((xs[m - 1] + xs[m]) / 2) * 1000) / 1000;
  }
  return out as RunResult;
}

function table(runs: readonly RunResult[], median: RunResult): string {
  const cols: Array<[string, keyof RunResult]> = [
    ['readings/s', 'readingsPerS'],
    ['windows/s', 'windowsPerS'],
    ['steady readings/s', 'steadyReadingsPerS'],
    ['first point s', 'firstPointS'],
    ['all points s', 'allPointsS'],
    ['stopped s', 'stoppedS'],
    ['exit s', 'exitS'],
    ['service CPU s', 'cpuS'],
    ['peak RSS MiB', 'peakRssMiB'],
    ['pauses', 'partitionPauses'],
  ];
  const rows = [['run', ...cols.map(([h]) => h)], ...runs.map((r, i) => [String(i + 1), ...cols.map(([, k]) => String(r[k] ?? '-'))]), ['median', ...cols.map(([, k]) => String(median[k] ?? '-'))]];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padStart(widths[c])).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const series = readCsvSeries(opts.file);
  opts.rows = Math.min(opts.rows, series.timestamps.length);
  if (!(Number.isInteger(opts.rows) && opts.rows >= opts.window)) throw new ConfigError('--rows', `must be an integer >= --window (${opts.window}), got ${opts.rows}`);
  const services = await ensureServices(log);
  const runs: RunResult[] = [];
  for (let i = 0; i < opts.runs; i++) {
    runs.push(await runOnce(i, opts, series, services));
    log.info('run done', { run: i + 1, ...runs[i] });
  }
  const median = medianRun(runs);
  const settings = { file: opts.file.replace(ROOT + '/', ''), rows: opts.rows, entities: opts.entities, window: opts.window, hop: opts.hop, runs: opts.runs, untilIdleS: UNTIL_IDLE_S, override: opts.override };
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, kafka: services.kafkaVersion, influxdb: services.influxVersion };
  if (opts.json) {
    process.stdout.write(JSON.stringify({ settings, machine, median, runs }, null, 2) + '\n');
    return;
  }
  process.stdout.write(`${JSON.stringify(settings)}\n${JSON.stringify(machine)}\n\n${table(runs, median)}\n`);
}

// Only when run as a script, so that the pure helpers can be imported.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    log.error('benchmark failed', { error: e, ...(e instanceof DiffwatchError ? e.coords : {}) });
    process.exitCode = 1;
  });
}
