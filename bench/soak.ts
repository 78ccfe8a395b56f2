/**
 * Soak: `diffwatch run` with the diffusion scorer under a steady load for N minutes, sampled
 * every few seconds, to show that memory, tensors, lag and the state topic stay flat once the
 * service has warmed up. Results and curves are in docs/reliability.md ("Soak").
 *
 *   npm run soak -- --minutes 30
 *   npm run soak -- --minutes 0.5 --sample-s 2 --rate 4 --window-length 16 --cold-windows 64   # a smoke run
 *   npm run soak -- --report out/soak/<run>                          # judge and draw a run again
 *
 * What one run does, on the running local stack (`npx diffwatch stack up`):
 * 1. Creates a telemetry topic (2 partitions) and names its own group, state, model, row and
 *    anomalies topics and InfluxDB database, all unique to the run.
 * 2. Starts `diffwatch run` as a child process: diffusion scorer, one scoring worker on wasm, a
 *    model per entity trained by the service itself (cold start on the entity's first
 *    `--cold-windows` windows, a small net: width 16, depth 2, 4 epochs), no fine-tuning, so the
 *    steady state is one model per entity. The cold starts and the detector's warm-up are the
 *    warm-up of the soak.
 * 3. Produces `--entities` × `--channels` readings at `--rate` readings per second per entity:
 *    a cycle of `--period-s` seconds (a compressed daily cycle) plus Gaussian noise, timestamped
 *    with the wall clock.
 * 4. Every `--sample-s` seconds reads the service's /metrics (RSS, V8 heap as sampled and live
 *    after a full collection, asked for every `--gc-every-s` with SIGUSR2, TF.js tensors of the
 *    scoring workers, windows scored, entities scoring), the group's lag from the broker (log-end
 *    minus committed offsets, kafkajs admin), the state topic's size (the bytes of its `.log`
 *    segment files in the broker's log directory: index files are preallocated, so they would
 *    hide the data), and the machine's load average.
 * 5. Stops the service with SIGTERM, writes out/soak/<run>/samples.jsonl, summary.json and
 *    soak.png, prints a table with each series' slope after warm-up and its verdict
 *    (bench/soakTrend.ts states the rule), and drops the run's topics and database.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { InfluxDB } from 'influx';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { loadConfig } from '../src/config/loadConfig.ts';
import { encodeReading } from '../src/ingest/codec/index.ts';
import { gaussians, mulberry32 } from '../src/random.ts';
import { stackLayout } from '../src/stack/layout.ts';
import { fmt, writeReport, type RunMeta } from './soakReport.ts';
import type { SoakSample } from './soakTrend.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/diffwatch.js');

const { values: a } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    entities: { type: 'string', default: '4' },
    channels: { type: 'string', default: '3' },
    /** Readings per second per entity. */
    rate: { type: 'string', default: '2' },
    'sample-s': { type: 'string', default: '10' },
    'cold-windows': { type: 'string', default: '300' },
    'window-length': { type: 'string', default: '32' },
    'period-s': { type: 'string', default: '600' },
    /** Seconds after every entity is scoring before the samples are judged. */
    'settle-s': { type: 'string', default: '60' },
    /** Seconds between the full collections asked of the service (SIGUSR2), after which its live heap is read. */
    'gc-every-s': { type: 'string', default: '60' },
    out: { type: 'string', default: 'out/soak' },
    png: { type: 'string' },
    report: { type: 'string' },
  },
});
const num = (k: keyof typeof a) => {
  const v = Number(a[k]);
  if (!(v > 0)) throw new Error(`--${k} must be a positive number, got ${JSON.stringify(a[k])}`);
  return v;
};
const S = {
  minutes: num('minutes'),
  entities: Math.round(num('entities')),
  channels: Math.round(num('channels')),
  rate: num('rate'),
  sampleS: num('sample-s'),
  coldWindows: Math.round(num('cold-windows')),
  windowLength: Math.round(num('window-length')),
  periodS: num('period-s'),
  settleS: Number(a['settle-s']),
  gcEveryS: num('gc-every-s'),
};

const runId = `soak-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${Math.random().toString(16).slice(2, 8)}`;
const dir = resolve(ROOT, a.out!, runId);
const names = {
  topic: `${runId}-telemetry`,
  groupId: `${runId}-group`,
  stateTopic: `${runId}-state`,
  modelTopic: `${runId}-models`,
  rowTopic: `${runId}-rows`,
  anomalies: `${runId}-anomalies`,
  database: runId.replace(/-/g, '_'),
};
const { stack } = loadConfig();
const brokers = [process.env.KAFKA_BROKERS ?? `127.0.0.1:${stack.kafkaPort}`];
const influxUrl = process.env.INFLUX_URL ?? `http://127.0.0.1:${stack.influxPort}`;
const kafkaLogDir = stackLayout(stack).kafka.dataDir;
const kafka = new Kafka({ clientId: runId, brokers, logLevel: logLevel.NOTHING });
const say = (line: string) => process.stdout.write(`${line}\n`);

function serviceConfig(): string {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({
    kafka: { topics: [names.topic], groupId: names.groupId },
    stream: { windowLength: S.windowLength, hop: 1 },
    scorer: {
      kind: 'diffusion',
      diffusion: {
        modelDir: null, modelStore: join(dir, 'models'), modelTopic: names.modelTopic, rowTopic: names.rowTopic, workers: 1, backend: 'wasm',
        coldStart: { windows: S.coldWindows, maxConcurrent: 1, training: { width: 16, depth: 2, epochs: 4, patience: 4, stride: 2, draws: 2, seed: 1 } },
      },
    },
    detect: { stateTopic: names.stateTopic, threshold: { warmupWindows: 100, nInit: 100 } },
    sinks: { anomaliesTopic: names.anomalies, influx: { database: names.database } },
    ops: { http: { host: '127.0.0.1', port: 0 } },
  }, null, 2));
  return file;
}

/** The service as a child process; its stderr goes to service.log, and the ops URL is taken from its log. */
function startService(cfgFile: string) {
  // A full collection on SIGUSR2 (scripts/gc-probe.mjs), so the live heap is read every `--gc-every-s`.
  const child = spawn(process.execPath, [`--import=${pathToFileURL(join(ROOT, 'scripts/gc-probe.mjs')).href}`, BIN, 'run', '--config', cfgFile], {
    cwd: ROOT,
    env: { ...process.env, KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl, DIFFWATCH_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const log = createWriteStream(join(dir, 'service.log'));
  let url: string | undefined;
  let partial = '';
  child.stderr.on('data', (d: Buffer) => {
    log.write(d);
    const lines = (partial + String(d)).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (!url && line.includes('operator endpoint listening')) url = (JSON.parse(line) as { url: string }).url;
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => log.end(() => res(code))));
  return { child, exited, url: () => url };
}

/** Sums of each metric over its label sets, and the `state="scoring"` row of diffwatch_entities. */
async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = line.split(/[{ ]/)[0];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    sums.set(name, (sums.get(name) ?? 0) + value);
    if (name === 'diffwatch_entities' && line.includes('state="scoring"')) sums.set('entities_scoring', value);
    if (name === 'nodejs_heap_space_size_total_bytes' && line.includes('space="new"')) sums.set('new_space_total', value);
    const kind = name === 'diffwatch_model_worker_memory_bytes' ? /kind="(\w+)"/.exec(line)?.[1] : undefined;
    if (kind) sums.set(`worker_${kind}`, value);
  }
  return sums;
}

async function groupLag(admin: Admin): Promise<number> {
  const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(names.topic), admin.fetchOffsets({ groupId: names.groupId, topics: [names.topic] })]);
  let lag = 0;
  for (const p of ends) {
    const c = Number(committed.partitions.find((x) => x.partition === p.partition)?.offset ?? -1);
    lag += Number(p.high) - (c < 0 ? Number(p.low) : c);
  }
  return lag;
}

function stateTopicBytes(): number {
  let bytes = 0;
  for (const d of readdirSync(kafkaLogDir)) {
    if (!d.startsWith(`${names.stateTopic}-`) || !/^\d+$/.test(d.slice(names.stateTopic.length + 1))) continue;
    for (const f of readdirSync(join(kafkaLogDir, d))) if (f.endsWith('.log')) bytes += statSync(join(kafkaLogDir, d, f)).size;
  }
  return bytes;
}

async function sample(service: ReturnType<typeof startService>, admin: Admin): Promise<SoakSample> {
  const t = Date.now();
  const url = service.url();
  const m = url ? await scrape(url).catch(() => undefined) : undefined;
  const get = (k: string) => m?.get(k) ?? null;
  return {
    t,
    rssBytes: get('process_resident_memory_bytes'),
    heapUsedBytes: get('nodejs_heap_size_used_bytes'),
    // NaN until the service's first major collection: not read yet.
    heapLiveBytes: Number.isFinite(get('diffwatch_heap_live_bytes')) ? get('diffwatch_heap_live_bytes') : null,
    heapTotalBytes: get('nodejs_heap_size_total_bytes'),
    newSpaceTotalBytes: get('new_space_total'),
    externalBytes: get('nodejs_external_memory_bytes'),
    workerHeapUsedBytes: get('worker_heap_used'),
    workerHeapTotalBytes: get('worker_heap_total'),
    workerWasmBytes: get('worker_wasm'),
    tensors: get('diffwatch_model_tensors'),
    lagMessages: await groupLag(admin).catch(() => null),
    stateTopicBytes: existsSync(kafkaLogDir) ? stateTopicBytes() : null,
    windowsScored: get('diffwatch_windows_scored_total'),
    entitiesScoring: m ? (m.get('entities_scoring') ?? 0) : null,
    load1: loadavg()[0],
    cpuSeconds: get('process_cpu_seconds_total'),
    modelCallSeconds: get('diffwatch_model_call_duration_seconds_sum'),
  };
}

/** Readings at a fixed rate until `untilMs`: each entity's channels follow a cycle of `periodS` seconds plus noise. */
async function produce(producer: Producer, untilMs: number): Promise<number> {
  const rng = mulberry32(7);
  const stepMs = 1_000 / S.rate;
  const t0 = Date.now();
  let sent = 0;
  for (let k = 0; ; k++) {
    const due = t0 + k * stepMs;
    if (due >= untilMs) return sent;
    if (due > Date.now()) await sleep(due - Date.now());
    const noise = gaussians(rng, S.entities * S.channels);
    const messages = Array.from({ length: S.entities }, (_, e) => {
      const values: Record<string, number> = {};
      for (let c = 0; c < S.channels; c++) {
        const phase = (2 * Math.PI * (due / 1_000)) / S.periodS + c + e / 2;
        values[`ch${c}`] = 50 + 10 * e + 8 * Math.sin(phase) + noise[e * S.channels + c];
      }
      return { key: `soak-${e}`, value: encodeReading({ entityId: `soak-${e}`, timestamp: Math.round(due), values }, 'avro') };
    });
    await producer.send({ topic: names.topic, messages });
    sent += messages.length;
  }
}

async function main(): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: names.topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  say(`soak ${runId}: ${S.entities} entities × ${S.channels} channels at ${S.rate}/s each for ${S.minutes} min; samples every ${S.sampleS} s → ${dir}`);
  const service = startService(serviceConfig());
  const samplesFile = join(dir, 'samples.jsonl');
  const samples: SoakSample[] = [];
  const startedAt = Date.now();
  const untilMs = startedAt + S.minutes * 60_000;
  let producing = true;
  const produced = produce(producer, untilMs).finally(() => (producing = false));
  // Samples on a fixed schedule while the load runs, and one more after the last reading.
  for (let k = 0; producing || k === 0; k++) {
    const due = startedAt + k * S.sampleS * 1_000;
    if (due > Date.now()) await sleep(due - Date.now());
    if (service.child.exitCode !== null) break;
    const s = await sample(service, admin);
    samples.push(s);
    appendFileSync(samplesFile, `${JSON.stringify(s)}\n`);
    // The next samples read the heap this collection leaves (the gauge is set when V8 reports it).
    // Only once it serves: before the preload's handler is in, SIGUSR2 would end the process.
    if (k > 0 && service.url() && k % Math.max(1, Math.round(S.gcEveryS / S.sampleS)) === 0) service.child.kill('SIGUSR2');
    say(`${new Date(s.t).toISOString().slice(11, 19)}  rss ${fmt(s.rssBytes ?? NaN, 'MiB')} MiB  heap ${fmt(s.heapUsedBytes ?? NaN, 'MiB')} live ${fmt(s.heapLiveBytes ?? NaN, 'MiB')} MiB  worker heap ${fmt(s.workerHeapTotalBytes ?? NaN, 'MiB')} wasm ${fmt(s.workerWasmBytes ?? NaN, 'MiB')} MiB  tensors ${s.tensors ?? '–'}  lag ${s.lagMessages ?? '–'}  state ${fmt(s.stateTopicBytes ?? NaN, 'MiB')} MiB  windows ${s.windowsScored ?? '–'}  scoring ${s.entitiesScoring ?? '–'}/${S.entities}  load ${s.load1?.toFixed(2)}`);
  }
  const readings = await produced;
  if (service.child.exitCode === null) {
    const last = await sample(service, admin);
    samples.push(last);
    appendFileSync(samplesFile, `${JSON.stringify(last)}\n`);
  }
  service.child.kill('SIGTERM');
  const stopTimer = setTimeout(() => service.child.kill('SIGKILL'), 90_000);
  const exitCode = await service.exited;
  clearTimeout(stopTimer);
  await producer.disconnect();

  await writeReport(dir, samples, {
    run: runId,
    command: `npm run soak -- ${process.argv.slice(2).join(' ')}`.trim(),
    settings: S,
    names,
    startedAt: new Date(startedAt).toISOString(),
    readingsProduced: readings,
    serviceExit: exitCode,
  }, resolve(ROOT, a.png ?? join(dir, 'soak.png')));

  const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${runId}-`));
  await admin.deleteTopics({ topics: mine }).catch((e) => say(`could not delete the run's topics: ${(e as Error).message}`));
  await admin.disconnect();
  const u = new URL(influxUrl);
  await new InfluxDB({ host: u.hostname, port: Number(u.port) }).dropDatabase(names.database).catch(() => {});
  return exitCode === 0 ? 0 : 1;
}

/** `--report <dir>`: judge and draw a finished run again from its samples.jsonl and summary.json. */
async function reportAgain(runDir: string): Promise<number> {
  const d = resolve(ROOT, runDir);
  const samples = readFileSync(join(d, 'samples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as SoakSample);
  const meta = JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')) as RunMeta;
  await writeReport(d, samples, meta, resolve(ROOT, a.png ?? join(d, 'soak.png')));
  return 0;
}

// kafkajs keeps reconnect timers after disconnect: exit once stdout is flushed.
const code = a.report ? await reportAgain(a.report) : await main();
process.stdout.write('', () => process.exit(code));
