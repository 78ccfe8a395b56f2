/**
 * End-to-end throughput and latency of `diffwatch run` on the real stack, as ratios to two
 * ceilings measured in the same run.
 *
 *   npm run bench:e2e -- --entities 100 --channels 8 [--rate R] [--seconds 20]
 *                        [--scorer noop|baseline|diffusion] [--model <dir>] [--runs 3] [--json]
 *
 * Without --model, the diffusion scorer gets a model trained on the benchmark's own telemetry.
 *
 * One run:
 * 1. A backlog of synthetic readings (bench/e2e/loadGenerator.ts) is produced into a fresh topic.
 * 2. Ceiling 1, consume: kafkajs alone reads the backlog with the service's fetch settings.
 * 3. Drain: the service starts on the backlog (writing to InfluxDB through a timing proxy) and
 *    its sustained windows/s is measured between the first and the last acknowledged point.
 * 4. Live: readings are produced at a fixed rate (default half the drained rate), stamped with
 *    their production time, with spikes injected on one entity after another; produce → score
 *    (acknowledged by InfluxDB) and produce → alert (received on the anomalies topic) latencies,
 *    CPU, RSS and consumer lag are recorded.
 * 5. Ceiling 2, scorer: the same scorer scores the same kind of windows, in the service's
 *    micro-batches and (for diffusion) a worker pool of the service's size, with no pipeline.
 * See bench/README.md for every figure.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { Command, numberFlag } from '../src/cli/command.ts';
import { loadConfig } from '../src/config/loadConfig.ts';
import type { DiffwatchConfig } from '../src/config/schema.ts';
import { ConfigError, DiffwatchError } from '../src/errors.ts';
import { rootLogger } from '../src/log.ts';
import { createBaselineScorer } from '../src/model/baselineScorer.ts';
import { createDiffusionScorer } from '../src/modelOps/diffusionScorer.ts';
import { waitFor } from '../src/stack/waitFor.ts';
import { cleanUp, deepMerge, ensureServices, influxClient, median, parseOverride, uniqueName, type Services } from './common.ts';
import { watchAlerts, type ReceivedAlert } from './e2e/alertWatch.ts';
import { startInfluxProxy } from './e2e/influxProxy.ts';
import { produceLive, type LiveLoad } from './e2e/liveLoad.ts';
import { LoadGenerator } from './e2e/loadGenerator.ts';
import { arrivalRate, percentiles, type Percentiles } from './e2e/rate.ts';
import { rawConsumeRate } from './e2e/rawConsume.ts';
import { generatorWindows, scorerRate } from './e2e/scorerCeiling.ts';
import { startService } from './e2e/serviceRun.ts';
import { benchModel } from './e2e/trainModel.ts';
import { stateTopicBytes } from './e2e/stateBytes.ts';

const log = rootLogger.namespace('bench.e2e');
type ScorerKind = 'noop' | 'baseline' | 'diffusion';
/** An entity's live rate must stay under 1 kHz: readings carry ms timestamps, one per ms at most. */
const MAX_ENTITY_HZ = 500;
/**
 * Windows a detector sees before it may alert, here: the threshold's warm-up and SPOT calibration
 * are shortened from their defaults (1,000 windows each, one after the other) so that a backlog
 * of a few hundred readings per entity warms every entity; the latency does not depend on it.
 */
const DETECTOR_WARMUP = 300;
/** Readings in the backlog at least: a drain of several seconds, so that start-up and the first and last batches weigh little. */
const MIN_BACKLOG = 100_000;

export interface Options {
  entities: number;
  channels: number;
  /** Live readings/s; undefined: half the drained rate of the same run. */
  rate?: number;
  seconds: number;
  scorer: ScorerKind;
  model?: string;
  runs: number;
  window: number;
  partitions: number;
  /** Backlog readings per entity; undefined: MIN_BACKLOG in all, and enough to warm the detector for alerting scorers. */
  backlog?: number;
  injectEveryMs: number;
  json: boolean;
  verbose: boolean;
  cpuProfDir?: string;
  override: Record<string, unknown>;
}

export function parseOptions(argv: string[]): Options {
  const n = (flag: string) => numberFlag(`--${flag}`);
  const f = new Command('bench:e2e')
    .option('--entities <n>', '', n('entities'), 100).option('--channels <n>', '', n('channels'), 8)
    .option('--rate <n>', '', n('rate')).option('--seconds <n>', '', n('seconds'), 20)
    .option('--scorer <kind>', '', 'baseline').option('--model <dir>').option('--runs <n>', '', n('runs'), 3)
    .option('--window <n>', '', n('window'), 64).option('--partitions <n>', '', n('partitions'), 6)
    .option('--backlog <n>', '', n('backlog')).option('--inject-every-ms <n>', '', n('inject-every-ms'), 1_000)
    .option('--json').option('--verbose').option('--cpu-prof <dir>').option('--override <json>')
    .parse(argv, { from: 'user' }).opts();
  if (!['noop', 'baseline', 'diffusion'].includes(f.scorer)) throw new ConfigError('--scorer', `must be noop, baseline or diffusion, got ${f.scorer}`);
  const o: Options = {
    entities: f.entities, channels: f.channels, rate: f.rate, seconds: f.seconds, scorer: f.scorer as ScorerKind,
    model: f.model && resolve(f.model), runs: f.runs, window: f.window, partitions: f.partitions, backlog: f.backlog,
    injectEveryMs: f.injectEveryMs, json: f.json === true, verbose: f.verbose === true, cpuProfDir: f.cpuProf, override: parseOverride(f.override),
  };
  for (const k of ['entities', 'channels', 'seconds', 'runs', 'window', 'partitions'] as const) {
    if (!(Number.isInteger(o[k]) && o[k] >= 1)) throw new ConfigError(`--${k}`, `must be an integer >= 1, got ${o[k]}`);
  }
  return o;
}

/** Readings per entity in the backlog. */
function backlogPerEntity(o: Options): number {
  if (o.backlog !== undefined) return Math.max(o.backlog, o.window);
  const enough = Math.ceil(MIN_BACKLOG / o.entities);
  if (o.scorer === 'noop') return Math.max(o.window + 16, enough);
  return Math.max(o.window + 2 * DETECTOR_WARMUP + 100, enough);
}

export interface RunResult {
  entities: number;
  readings: number;
  /** Backlog readings/s of the producer (batches of 1,000, acks all). */
  produceReadingsPerS: number;
  rawConsumeReadingsPerS: number;
  drainWindowsPerS: number;
  drainReadingsPerS: number;
  /** Drained readings/s ÷ raw consume readings/s. */
  ratioToConsume: number;
  /** Windows/s of the scorer alone (NaN for noop). */
  scorerWindowsPerS: number;
  /** Drained windows/s ÷ scorer windows/s. */
  ratioToScorer: number;
  /** Cores the service used while draining (CPU s ÷ wall s). */
  drainCores: number;
  /** RSS when the backlog was drained, MiB. */
  drainRssMiB: number;
  liveRate: number;
  liveProduced: number;
  /** Cores the service used during the live phase. */
  liveCores: number;
  /** A reading's stamp → the broker's acknowledgement of its produce request: the load side's part of every latency. */
  brokerAckMs: Percentiles;
  scoreLatencyMs: Percentiles;
  /** Receipt of the `open` event − event time of the window that opened it. */
  alertLatencyMs: Percentiles;
  /** Receipt of the `open` event − production of the first spiked reading. */
  detectLatencyMs: Percentiles;
  injected: number;
  detected: number;
  /** `open` events of the scorer (kind `model`) for live windows with no injection in the 5 s before. */
  unexplainedAlerts: number;
  /** Those of them on entities that had no injection at all: false alerts on normal telemetry. */
  unexplainedNeverInjected: number;
  maxLagMessages: number;
  peakRssMiB: number;
  stateTopicBytes: number;
}

/** Committed-offset lag of the group on the topic, in messages. */
async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const at = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
  return ends.reduce((lag, p) => lag + Number(p.high) - Math.max(0, at.get(p.partition) ?? 0), 0);
}

function serviceConfig(o: Options, names: Record<'topic' | 'groupId' | 'anomalies' | 'state' | 'database', string>, influxUrl: string): Record<string, unknown> {
  const scorer = o.scorer === 'diffusion' ? { kind: 'diffusion', diffusion: { modelDir: o.model } } : { kind: o.scorer };
  return deepMerge(
    {
      kafka: { topics: [names.topic], groupId: names.groupId },
      stream: { windowLength: o.window },
      scorer,
      // The backlog ends seconds before the live phase starts (the raw read and the drain come
      // between): the silence rule would rightly open an incident per entity, which would then
      // hold every injected spike inside it. Live telemetry has no such gap.
      detect: { stateTopic: names.state, rules: { silence: { enabled: false } }, threshold: { warmupWindows: DETECTOR_WARMUP, nInit: DETECTOR_WARMUP } },
      sinks: { anomaliesTopic: names.anomalies, influx: { url: influxUrl, database: names.database } },
    },
    o.override,
  );
}

/** Latencies of the `open` events: from the deciding window, and from the injection it answers; and opens that answer none. */
function alertFigures(opened: readonly ReceivedAlert[], live: LiveLoad) {
  const fromWindow: number[] = [];
  const fromInjection: number[] = [];
  const answered = new Set<string>();
  let unexplained = 0;
  let neverInjected = 0;
  for (const a of opened) {
    // Only the scorer's alerts (kind `model`); the rules' (flatline, out of range) answer no injection.
    if (a.endTime < live.firstMs || a.kind !== 'model') continue;
    fromWindow.push(a.receivedMs - a.endTime);
    const inj = (live.injections.get(a.entityId) ?? []).filter((t) => t <= a.endTime && a.endTime - t <= 5_000).pop();
    if (inj === undefined) {
      unexplained++;
      if (!live.injections.has(a.entityId)) neverInjected++;
    } else if (!answered.has(`${a.entityId}@${inj}`)) {
      answered.add(`${a.entityId}@${inj}`);
      fromInjection.push(a.receivedMs - inj);
    }
  }
  const injected = [...live.injections.values()].reduce((n, l) => n + l.length, 0);
  return { alertLatencyMs: percentiles(fromWindow), detectLatencyMs: percentiles(fromInjection), injected, detected: answered.size, unexplainedAlerts: unexplained, unexplainedNeverInjected: neverInjected };
}

async function scorerCeiling(o: Options, cfg: Readonly<DiffwatchConfig>, gen: LoadGenerator): Promise<number> {
  if (o.scorer === 'noop') return NaN;
  const perEntity = Math.max(8, Math.ceil(4_096 / o.entities));
  const windows = generatorWindows(gen, o.window, perEntity).slice(0, Math.max(4_096, o.entities));
  const d = cfg.scorer.diffusion;
  const scorer = o.scorer === 'baseline' ? createBaselineScorer(cfg.scorer.baseline) : await createDiffusionScorer({ modelDir: o.model!, workers: d.workers > 0 ? d.workers : undefined, backend: d.backend, log: log.namespace('model') });
  try {
    return await scorerRate(scorer, windows, cfg.scorer.microBatchSize);
  } finally {
    await scorer.close?.();
  }
}

export async function runOnce(run: number, o: Options, services: Services): Promise<RunResult> {
  const names = { topic: uniqueName('e2e-telemetry'), groupId: uniqueName('e2e-group'), anomalies: uniqueName('e2e-anomalies'), state: '', database: uniqueName('e2e').replace(/-/g, '_') };
  names.state = `${names.topic}.state`;
  const rawGroup = uniqueName('e2e-raw');
  const alertGroup = uniqueName('e2e-alerts');
  const kafka = new Kafka({ clientId: 'bench-e2e', brokers: services.brokers, logLevel: logLevel.NOTHING });
  const topics = [names.topic, `${names.topic}.dlq`, names.anomalies, names.state];
  const dir = mkdtempSync(join(tmpdir(), 'bench-e2e-'));
  const admin = kafka.admin();
  const producer = kafka.producer();
  const gen = new LoadGenerator({ entities: o.entities, channels: o.channels, seed: run + 1 });
  const perEntity = backlogPerEntity(o);
  const readings = perEntity * o.entities;
  const drainWindows = (perEntity - o.window + 1) * o.entities;
  const drained = arrivalRate();
  let live: LiveLoad | undefined;
  let liveScored = 0;
  const scoreLatency: number[] = [];
  const proxy = await startInfluxProxy(services.influxUrl, (points) => {
    let n = 0;
    for (const p of points) {
      if (p.measurement !== 'scores') continue;
      if (live && p.timeMs >= live.firstMs) {
        liveScored++;
        scoreLatency.push(p.ackedAtMs - p.timeMs);
      } else n++;
    }
    drained.add(n);
  });
  let service: ReturnType<typeof startService> | undefined;
  try {
    await admin.connect();
    await producer.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: names.topic, numPartitions: o.partitions }, { topic: topics[1] }, { topic: names.anomalies }] });
    log.info('producing the backlog', { run: run + 1, readings, entities: o.entities, channels: o.channels });
    const produced = arrivalRate();
    let batch = [];
    for (const m of gen.backlog(perEntity, Date.now() - 1_000)) {
      batch.push(m);
      if (batch.length === 1_000) {
        await producer.send({ topic: names.topic, acks: -1, messages: batch });
        produced.add(batch.length);
        batch = [];
      }
    }
    if (batch.length > 0) await producer.send({ topic: names.topic, acks: -1, messages: batch });
    produced.add(batch.length);

    const cfg = loadConfig({ overrides: serviceConfig(o, names, proxy.url) as never, env: {} });
    const raw = await rawConsumeRate(kafka, names.topic, rawGroup, readings, cfg.kafka);
    log.info('raw consume done', { readingsPerS: Math.round(raw.perSecond()) });

    const cfgFile = join(dir, 'config.json');
    writeFileSync(cfgFile, JSON.stringify(serviceConfig(o, names, proxy.url)));
    const alerts = await watchAlerts(kafka, names.anomalies, alertGroup);
    const env = { ...process.env, KAFKA_BROKERS: services.brokers.join(','), DIFFWATCH_OPS_HTTP: '127.0.0.1:0', DIFFWATCH_LOG_LEVEL: 'info' };
    service = startService(cfgFile, env, { cpuProfDir: o.cpuProfDir, verbose: o.verbose });
    const s = service;
    await waitFor(async () => drained.count > 0 || undefined, { timeoutMs: 120_000, intervalMs: 20, what: 'the first score point', abortIf: () => s.assertAlive() });
    const atFirst = s.sample();
    const tFirst = performance.now();
    await waitFor(async () => drained.count >= drainWindows || undefined, { timeoutMs: 30 * 60_000, intervalMs: 20, what: `${drainWindows} backlog score points`, abortIf: () => s.assertAlive() });
    const atDrained = s.sample();
    const drainCores = (atDrained.cpuS - atFirst.cpuS) / ((performance.now() - tFirst) / 1000);
    const drainWindowsPerS = drained.perSecond();
    log.info('backlog drained', { windowsPerS: Math.round(drainWindowsPerS), cores: drainCores.toFixed(2) });

    // Half the drained window rate: every live reading makes a window, while a backlog's first L − 1 per entity make none.
    const liveRate = Math.min(o.rate ?? Math.round(drainWindowsPerS / 2), o.entities * MAX_ENTITY_HZ);
    let maxLag = 0;
    const lagTimer = setInterval(() => void groupLag(admin, names.groupId, names.topic).then((l) => (maxLag = Math.max(maxLag, l)), () => undefined), 1_000);
    const tLive = performance.now();
    // Set before the first live reading exists: every backlog point is older than this.
    live = { produced: 0, firstMs: Date.now(), lastMs: Infinity, injections: new Map(), brokerAckMs: [] };
    const l = (live = await produceLive(gen, producer, { topic: names.topic, rate: liveRate, seconds: o.seconds, injectEveryMs: o.scorer === 'noop' ? 0 : o.injectEveryMs, spikeReadings: 3 }));
    await waitFor(async () => liveScored >= l.produced || undefined, { timeoutMs: 120_000, intervalMs: 20, what: `${l.produced} live score points`, abortIf: () => s.assertAlive() });
    const atLive = s.sample();
    clearInterval(lagTimer);
    // Every injection that was not answered yet gets up to 5 s more (detection may lag by a few readings).
    const expected = () => alertFigures(alerts.opened, l);
    await waitFor(async () => (expected().detected >= expected().injected ? true : undefined), { timeoutMs: 5_000, intervalMs: 50, what: 'alerts of every injection' }).catch(() => undefined);
    const liveCores = (atLive.cpuS - atDrained.cpuS) / ((performance.now() - tLive) / 1000);
    await s.stop();
    await alerts.stop();
    if (o.verbose) log.info('first alerts', { alerts: alerts.opened.slice(0, 5) });
    const peakRssMiB = s.sample().peakRssKiB / 1024;
    const stateBytes = await stateTopicBytes(kafka, names.state);
    const scorerWindowsPerS = await scorerCeiling(o, cfg, gen);
    const rawPerS = raw.perSecond();
    const drainReadingsPerS = (drainWindowsPerS * readings) / drainWindows;
    return {
      entities: o.entities,
      readings,
      produceReadingsPerS: produced.perSecond(),
      rawConsumeReadingsPerS: rawPerS,
      drainWindowsPerS,
      drainReadingsPerS,
      ratioToConsume: drainReadingsPerS / rawPerS,
      scorerWindowsPerS,
      ratioToScorer: drainWindowsPerS / scorerWindowsPerS,
      drainCores,
      drainRssMiB: atDrained.rssKiB / 1024,
      liveRate,
      liveProduced: l.produced,
      liveCores,
      brokerAckMs: percentiles(l.brokerAckMs),
      scoreLatencyMs: percentiles(scoreLatency),
      ...expected(),
      maxLagMessages: maxLag,
      peakRssMiB,
      stateTopicBytes: stateBytes,
    };
  } finally {
    service?.kill();
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
    await cleanUp(kafka, influxClient(services.influxUrl, names.database), { topics, groupIds: [names.groupId, rawGroup, alertGroup], database: names.database }, log);
  }
}

type Figure = (r: RunResult) => number;

/** The figures of the report: name, how to read it off a run, digits. */
const FIGURES: Array<[string, Figure, number]> = [
  ['raw consume readings/s (ceiling)', (r) => r.rawConsumeReadingsPerS, 0],
  ['service readings/s (drain)', (r) => r.drainReadingsPerS, 0],
  ['service windows/s (drain)', (r) => r.drainWindowsPerS, 0],
  ['  ratio to raw consume', (r) => r.ratioToConsume, 3],
  ['scorer alone windows/s (ceiling)', (r) => r.scorerWindowsPerS, 0],
  ['  ratio to scorer alone', (r) => r.ratioToScorer, 3],
  ['service cores (drain)', (r) => r.drainCores, 2],
  ['RSS after drain MiB', (r) => r.drainRssMiB, 0],
  ['live rate readings/s', (r) => r.liveRate, 0],
  ['service cores (live)', (r) => r.liveCores, 2],
  ['live readings produced', (r) => r.liveProduced, 0],
  ['produce → broker ack p50 ms', (r) => r.brokerAckMs.p50, 0],
  ['produce → broker ack p99 ms', (r) => r.brokerAckMs.p99, 0],
  ['produce → score p50 ms', (r) => r.scoreLatencyMs.p50, 0],
  ['produce → score p99 ms', (r) => r.scoreLatencyMs.p99, 0],
  ['produce → score max ms', (r) => r.scoreLatencyMs.max, 0],
  ['produce → alert p50 ms', (r) => r.alertLatencyMs.p50, 0],
  ['produce → alert p99 ms', (r) => r.alertLatencyMs.p99, 0],
  ['produce → alert max ms', (r) => r.alertLatencyMs.max, 0],
  ['injection → alert p50 ms', (r) => r.detectLatencyMs.p50, 0],
  ['injected', (r) => r.injected, 0],
  ['detected', (r) => r.detected, 0],
  ['unexplained alerts', (r) => r.unexplainedAlerts, 0],
  ['  on entities never injected', (r) => r.unexplainedNeverInjected, 0],
  ['max lag (live) messages', (r) => r.maxLagMessages, 0],
  ['peak RSS MiB', (r) => r.peakRssMiB, 0],
  ['produce readings/s (backlog)', (r) => r.produceReadingsPerS, 0],
  ['state topic bytes / entity', (r) => r.stateTopicBytes / r.entities, 0],
];

export function summary(runs: readonly RunResult[]) {
  return FIGURES.map(([name, get, digits]) => {
    const xs = runs.map(get).filter(Number.isFinite);
    const r = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);
    return { name, median: r(median(xs)), min: r(Math.min(...xs)), max: r(Math.max(...xs)), runs: runs.map((x) => r(get(x))) };
  });
}

export function table(rows: ReturnType<typeof summary>): string {
  const cells = [['figure', 'median', 'min', 'max', 'runs'], ...rows.map((x) => [x.name, String(x.median ?? '–'), String(x.min ?? '–'), String(x.max ?? '–'), x.runs.map((v) => v ?? '–').join(' / ')])];
  const w = cells[0].map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (o.scorer === 'diffusion' && !o.model) {
    log.info('training a model for the benchmark\'s telemetry (cached in .cache/e2e-model)', { channels: o.channels, window: o.window });
    o.model = await benchModel(o.channels, o.window);
  }
  const services = await ensureServices(log);
  const loadBefore = loadavg();
  const runs: RunResult[] = [];
  for (let i = 0; i < o.runs; i++) {
    runs.push(await runOnce(i, o, services));
    log.info('run done', { run: i + 1 });
  }
  const settings = { entities: o.entities, channels: o.channels, scorer: o.scorer, window: o.window, partitions: o.partitions, backlogPerEntity: backlogPerEntity(o), seconds: o.seconds, rate: o.rate ?? 'half the drained rate', runs: o.runs, override: o.override };
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, kafka: services.kafkaVersion, influxdb: services.influxVersion, loadavgBefore: loadBefore.map((x) => Number(x.toFixed(2))), loadavgAfter: loadavg().map((x) => Number(x.toFixed(2))) };
  const rows = summary(runs);
  if (o.json) process.stdout.write(JSON.stringify({ settings, machine, summary: rows, runs }, null, 2) + '\n');
  else process.stdout.write(`${JSON.stringify(settings)}\n${JSON.stringify(machine)}\n\n${table(rows)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    log.error('benchmark failed', { error: e, ...(e instanceof DiffwatchError ? e.coords : {}) });
    process.exitCode = 1;
  });
}
