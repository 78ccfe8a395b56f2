/**
 * docs/img/top.txt and docs/img/top.png: `diffwatch top` captured from a real terminal (tmux,
 * 120x40) while a demo-like run is live on the local stack. Three NAB series as telemetry: the
 * EC2 latency and the ambient temperature are replayed at once, the machine temperature streams
 * in at about 40 readings/s, so the capture shows an entity still warming up, throughput and lag
 * while the service works. The scorer is the baseline (no training wait) with a fixed threshold
 * of 6 (1,000 warm-up windows) and the demo's alert lifecycle, so the EC2 series ends in an open
 * alert. The pane is captured with its colours (`capture-pane -e`),
 * written as text, turned into an HTML `<pre>` and screenshot with headless Chromium
 * (scripts/ensure-chromium.sh).
 *
 *   npx tsx scripts/top-screenshot.ts [--out docs/img/top]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { screenshot } from '../src/dashboards/panelReport.ts';
import { encodeReading } from '../src/ingest/codec/index.ts';
import { readCsvSeries } from '../src/ingest/csvSeries.ts';
import { waitFor } from '../src/stack/waitFor.ts';
import { ansiToHtmlPage } from '../src/top/ansiHtml.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/diffwatch.js');
const NAB = join(ROOT, 'data/nab');
const { values: args } = parseArgs({ options: { out: { type: 'string', default: 'docs/img/top' } } });
const COLUMNS = 120;
const ROWS = 40;

const run = `topshot-${Date.now().toString(36)}`;
const topic = `${run}.telemetry`;
const database = run.replaceAll('-', '_');
const socket = run;
const work = mkdtempSync(join(tmpdir(), 'diffwatch-top-shot-'));
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

const say = (line: string) => process.stderr.write(`== ${line}\n`);
const tmux = (...a: string[]) => spawnSync('tmux', ['-L', socket, ...a], { encoding: 'utf8' });
const sh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const pane = (escapes = false) => tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', 'top').stdout ?? '';

function diffwatch(...a: string[]): void {
  const r = spawnSync(process.execPath, [BIN, ...a], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`diffwatch ${a.join(' ')} exited ${r.status}`);
}

/** The demo's config (config/diffwatch.json) on this run's own topics and database, baseline scorer. */
function writeRunConfig(): string {
  const base = JSON.parse(readFileSync(join(ROOT, 'config/diffwatch.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  const config = {
    ...base,
    kafka: { ...base.kafka, topics: [topic], groupId: run },
    // No lateness allowance: a window is scored as soon as it is complete, so the replayed series
    // are shown to their end (the demo's hour would hold their last hour back until they go idle).
    // An entity idle for 5 s releases its last readings, so the lag shows the streamed series only.
    stream: { ...base.stream, allowedLatenessMs: 0, entityIdleMs: 5_000 },
    scorer: { kind: 'baseline' },
    // A fixed level instead of the demo's SPOT: the EC2 series then ends inside an incident.
    detect: { ...base.detect, stateTopic: `${run}.state`, threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 1000 } },
    sinks: { ...base.sinks, anomaliesTopic: `${run}.anomalies`, influx: { ...(base.sinks.influx as object), database } },
  };
  const file = join(work, 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** Streams rows of a NAB series as Avro readings of `entity`, `perSecond` at a time, until stopped. */
function stream(kafka: Kafka, entity: string, file: string, perSecond: number): { stop(): Promise<void> } {
  const series = readCsvSeries(file);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  let stopped = false;
  const done = (async () => {
    await producer.connect();
    for (let row = 0; row < series.timestamps.length && !stopped; row += perSecond / 10) {
      const messages = [];
      for (let r = row; r < Math.min(row + perSecond / 10, series.timestamps.length); r++) {
        messages.push({ key: entity, value: encodeReading({ entityId: entity, timestamp: series.timestamps[r], values: { value: series.values[r] } }, 'avro') });
      }
      await producer.send({ topic, acks: -1, messages });
      await new Promise((r) => setTimeout(r, 100)); // pacing: about perSecond readings a second
    }
    await producer.disconnect();
  })();
  return {
    async stop() {
      stopped = true;
      await done;
    },
  };
}

async function main(): Promise<void> {
  diffwatch('stack', 'up');
  const config = writeRunConfig();
  say(`replaying two NAB series to ${topic}`);
  diffwatch('replay', '--file', join(NAB, 'ec2_request_latency_system_failure.csv'), '--topic', topic, '--entity', 'ec2-latency');
  diffwatch('replay', '--file', join(NAB, 'ambient_temperature_system_failure.csv'), '--topic', topic, '--entity', 'ambient-temperature');

  say('starting diffwatch run (its endpoint on a free port)');
  const service = spawn(process.execPath, [BIN, 'run', '--config', config], { cwd: ROOT, env: { ...process.env, DIFFWATCH_OPS_HTTP: '127.0.0.1:0', DIFFWATCH_LOG_LEVEL: 'info' } });
  let log = '';
  service.stderr.on('data', (d) => (log += d));
  const metricsUrl = await waitFor(async () => /"msg":"operator endpoint listening","url":"([^"]+)"/.exec(log)?.[1], { timeoutMs: 60_000, intervalMs: 100, what: 'the operator endpoint' });
  const kafka = new Kafka({ clientId: run, brokers, logLevel: logLevel.NOTHING });
  const live = stream(kafka, 'machine-temperature', join(NAB, 'machine_temperature_system_failure.csv'), 40);

  try {
    say('starting diffwatch top in tmux (120x40)');
    const command = `cd ${sh(ROOT)} && env -u CI ${sh(process.execPath)} ${sh(BIN)} top --config ${sh(config)} --metrics ${sh(`${metricsUrl}/metrics`)}`;
    if (tmux('new-session', '-d', '-s', 'top', '-x', String(COLUMNS), '-y', String(ROWS), command).status !== 0) throw new Error('tmux new-session failed');
    // The moment to capture: both replayed series scored through, the streamed one still warming up, windows flowing.
    let last = '';
    await waitFor(
      async () => {
        const s = (last = pane());
        const busy = Number(/windows\/s (\d+\.\d)/.exec(s)?.[1] ?? 0) > 0;
        const lag = Number(/consumer lag {2}(\d+) messages/.exec(s)?.[1] ?? Infinity) < 500;
        const ends = /^ec2-latency .* 2014-03-21 03:41:00/m.test(s) && /^ambient-temperature .* 2014-05-28 15:00:00/m.test(s);
        return busy && lag && ends && /^machine-temperature\s+warm-up/m.test(s) ? true : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 250, what: 'the screen to capture' },
    ).catch((e: Error) => {
      throw new Error(`${e.message}; the last screen:\n${last}`);
    });
    const screen = pane(true);
    const out = resolve(ROOT, args.out!);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(`${out}.txt`, screen);
    const html = join(work, 'top.html');
    writeFileSync(html, ansiToHtmlPage(screen, { title: 'diffwatch top', columns: COLUMNS }));
    const lines = screen.replace(/\s+$/, '').split('\n').length;
    await screenshot(html, `${out}.png`, { width: 1040, height: Math.ceil(lines * 18.2 + 30), profileDir: join(work, 'profile') });
    say(`wrote ${out}.txt and ${out}.png`);
    tmux('send-keys', '-t', 'top', 'q');
  } finally {
    await live.stop();
    service.kill('SIGTERM');
    await new Promise((r) => service.once('exit', r));
    tmux('kill-server');
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
