/**
 * The running service on labelled NAB files: each file is replayed into Kafka and judged by
 * `diffwatch run` as in the README demo (its cold start, its fine-tunes, the judge of the config),
 * and the incidents it opened, read back from InfluxDB, are counted against NAB's label windows:
 *
 *   found    label windows with an incident opened inside them
 *   false    incidents opened outside every label window
 *   blind    label windows whose every window was in warm-up (a cold start, or a judge warming up)
 *
 * The offline harness (`diffwatch eval nab`) scores one model trained on each file's probationary
 * rows; this measures what an operator of the service would see, fine-tunes and all. Choose
 * settings on the tuning half (`--split tuning`) and report the test half.
 *
 *   npm run eval:service-nab -- --split tuning --min-rows 7000 [--config config/diffwatch.json] [--json out.json]
 *   npm run eval:service-nab -- --files realKnownCause/machine_temperature_system_failure.csv
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { Kafka, logLevel } from 'kafkajs';
import { readLabelWindows } from '../src/eval/nab/corpus.ts';
import { parseNabTimestamp } from '../src/eval/nab/labels.ts';
import { NAB_SPLIT_CHOICES, selectSplit, type NabSplitChoice } from '../src/eval/nab/split.ts';
import { rootLogger } from '../src/log.ts';
import { cleanUp, ensureServices, influxClient, listFlag, uniqueName } from './common.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/diffwatch.js');
const ENTITY = 'e';

interface FileResult {
  file: string;
  windows: number;
  found: number;
  falseOpens: string[];
  blind: number;
  opens: number;
  modelVersions: number;
  warmupWindows: number;
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-8_000)));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`diffwatch ${args[0]} exited ${code}\n${stderr}`))));
  });
}

/** The files of a split under `nabDir/data` with at least `minRows` rows, in path order. */
function selectFiles(nabDir: string, split: NabSplitChoice, minRows: number): string[] {
  const data = join(nabDir, 'data');
  const paths = readdirSync(data, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(data, d.name)).filter((f) => f.endsWith('.csv')).map((f) => `${d.name}/${f}`))
    .sort();
  return selectSplit(paths, split).filter((p) => readFileSync(join(data, p), 'utf8').trimEnd().split('\n').length - 1 >= minRows);
}

async function runFile(nabDir: string, file: string, config: string, brokers: string[], influxUrl: string): Promise<FileResult> {
  const run = uniqueName('service-nab');
  const database = run.replace(/-/g, '_');
  const names = { topic: `${run}.telemetry`, state: `${run}.state`, models: `${run}.models`, rows: `${run}.rows` };
  await cli(['replay', '--file', join(nabDir, 'data', file), '--topic', names.topic, '--entity', ENTITY], { ...process.env, KAFKA_BROKERS: brokers.join(',') });
  const env = {
    ...process.env,
    KAFKA_BROKERS: brokers.join(','),
    INFLUX_URL: influxUrl,
    INFLUX_DATABASE: database,
    DIFFWATCH_TOPICS: names.topic,
    DIFFWATCH_GROUP_ID: run,
    DIFFWATCH_STATE_TOPIC: names.state,
    DIFFWATCH_MODEL_STORE: join(ROOT, 'out/service-nab', run, 'models'),
    DIFFWATCH_MODEL_TOPIC: names.models,
    DIFFWATCH_ROW_TOPIC: names.rows,
    DIFFWATCH_LOG_LEVEL: 'error',
  };
  await cli(['run', '--config', config, '--until-idle', '3'], env);
  const influx = influxClient(influxUrl, database);
  const opens = await influx.query<{ time: Date }>(`SELECT score FROM alerts WHERE state = 'open' AND kind = 'model'`);
  const warm = await influx.query<{ time: Date }>(`SELECT state FROM scores WHERE state = 'warmup'`);
  const all = await influx.query<{ time: Date }>(`SELECT state FROM scores`);
  const versions = await influx.query<{ n: number }>(`SELECT count(state) AS n FROM scores GROUP BY model_version`);
  const windows = ((await readLabelWindows(nabDir))[file] ?? []).map(([a, b]) => [parseNabTimestamp(a), parseNabTimestamp(b)] as const);
  const openTimes = opens.map((r) => new Date(r.time).getTime());
  const inside = (t: number) => windows.some(([a, b]) => a <= t && t <= b);
  const warmTimes = new Set(warm.map((r) => new Date(r.time).getTime()));
  const allTimes = all.map((r) => new Date(r.time).getTime());
  const result: FileResult = {
    file,
    windows: windows.length,
    found: windows.filter(([a, b]) => openTimes.some((t) => a <= t && t <= b)).length,
    falseOpens: openTimes.filter((t) => !inside(t)).map((t) => new Date(t).toISOString()),
    blind: windows.filter(([a, b]) => {
      const judged = allTimes.filter((t) => a <= t && t <= b);
      return judged.length > 0 && judged.every((t) => warmTimes.has(t)) && !openTimes.some((t) => a <= t && t <= b);
    }).length,
    opens: openTimes.length,
    modelVersions: versions.length,
    warmupWindows: warm.length,
  };
  const kafka = new Kafka({ clientId: 'service-nab', brokers, logLevel: logLevel.NOTHING });
  await cleanUp(kafka, influx, { topics: Object.values(names), groupIds: [run], database }, rootLogger.namespace('service-nab'));
  return result;
}

async function main(): Promise<void> {
  const opts = new Command('service-nab')
    .option('--nab-dir <dir>', 'NAB v1.1', join(ROOT, '../shared/datasets/nab'))
    .option('--files <list>', 'data paths (category/file.csv), comma-separated; else --split and --min-rows')
    .option('--split <half>', `tuning, test or all (${NAB_SPLIT_CHOICES.join(', ')})`, 'tuning')
    .option('--min-rows <n>', 'only files of at least this many rows (fine-tunes need long files)', '7000')
    .option('--config <file>', 'the service config', join(ROOT, 'config/diffwatch.json'))
    .option('--json <file>', 'also write the results as JSON')
    .parse()
    .opts<{ nabDir: string; files?: string; split: NabSplitChoice; minRows: string; config: string; json?: string }>();
  const files = opts.files ? listFlag(opts.files) : selectFiles(opts.nabDir, opts.split, Number(opts.minRows));
  const services = await ensureServices(rootLogger.namespace('service-nab'));
  const results: FileResult[] = [];
  for (const file of files) {
    const r = await runFile(opts.nabDir, file, opts.config, services.brokers, services.influxUrl);
    results.push(r);
    process.stdout.write(`${r.file.padEnd(56)} found ${r.found}/${r.windows}  false ${String(r.falseOpens.length).padStart(2)}  blind ${r.blind}  versions ${r.modelVersions}  warm-up windows ${r.warmupWindows}\n`);
  }
  const sum = (k: 'found' | 'windows' | 'blind') => results.reduce((s, r) => s + r[k], 0);
  const falseOpens = results.reduce((s, r) => s + r.falseOpens.length, 0);
  process.stdout.write(`total: found ${sum('found')}/${sum('windows')} label windows, ${falseOpens} false incidents, ${sum('blind')} windows blind (warm-up)\n`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ config: opts.config, files: results }, null, 2) + '\n');
}

await main();
