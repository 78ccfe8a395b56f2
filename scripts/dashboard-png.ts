/**
 * docs/img/pipeline-health.png: the pipeline-health dashboard's panels, drawn from their real
 * query results. Writes one hour of `diffwatch_internal` points for two instances into a fresh
 * database on the stack's InfluxDB (through the service's writer), runs every panel query of
 * grafana/dashboards/diffwatch-pipeline.json expanded as Grafana expands it, renders the answers
 * as an HTML page with SVG charts and screenshots it with headless Chromium.
 *
 * The hour tells a story an operator should recognise: entities warm up and get their models,
 * then InfluxDB is unavailable for seven minutes (the writer's buffer fills, retries climb, the
 * consumer is held back so lag and latency rise) and the backlog drains; later a burst of bad
 * records goes to the dead-letter topic.
 *
 *   npx tsx scripts/dashboard-png.ts [--out docs/img/pipeline-health.png] [--html out/pipeline-health.html]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InfluxDB, type IPoint } from 'influx';
import { loadConfig } from '../src/config/loadConfig.ts';
import { pipelineDashboard, type Json } from '../src/dashboards/index.ts';
import { panelReportHtml, screenshot, type InfluxSeries } from '../src/dashboards/panelReport.ts';
import { INTERNAL_FIELDS as F, INTERNAL_MEASUREMENT, INTERNAL_TAGS } from '../src/ops/internalMeasurement.ts';
import { mulberry32 } from '../src/random.ts';
import { expandDashboardQueries } from '../src/sinks/dashboardQueries.ts';
import { createInfluxWriter } from '../src/sinks/influxWriter.ts';

const { values: args } = parseArgs({ options: { out: { type: 'string', default: 'docs/img/pipeline-health.png' }, html: { type: 'string' } } });
const STEP = 10_000; // ops.internalIntervalMs
const HOUR = 3_600_000;
const to = Math.floor(Date.now() / STEP) * STEP;
const from = to - HOUR;
const INSTANCES = ['diffwatch-0:4102', 'diffwatch-1:4117'];
const OUTAGE = [from + 25 * 60_000, from + 32 * 60_000];

/** One interval's figures of instance k at time t. */
function figures(k: number, t: number, rand: () => number): Record<string, number> {
  const min = (t - from) / 60_000;
  const down = t >= OUTAGE[0] && t < OUTAGE[1];
  const sinceUp = (t - OUTAGE[1]) / 60_000;
  const drain = !down && sinceUp >= 0 && sinceUp < 6;
  const base = 1_800 + 400 * k + 60 * Math.sin(min / 7) + 40 * rand();
  const backlog = down ? ((t - OUTAGE[0]) / 1_000) * base * 0.5 : drain ? Math.max(0, 7 * 60 * base * 0.5 * (1 - sinceUp / 6)) : 30 + 40 * rand();
  const warmup = Math.max(0, Math.round(40 * (1 - min / 15))) + (k === 1 && min > 40 && min < 44 ? 6 : 0);
  const cold = Math.max(0, Math.round(12 * (1 - Math.abs(min - 12) / 8)));
  return {
    [F.readingsPerSecond]: down ? base * 0.5 : drain ? base * 1.9 : base,
    [F.windowsPerSecond]: down ? 0 : drain ? base * 1.9 : base * (1 - 0.02 * rand()),
    [F.lagMessages]: Math.round(backlog),
    [F.latencyP50Ms]: down ? 30_000 + (t - OUTAGE[0]) / 2 : drain ? 60_000 * (1 - sinceUp / 6) + 140 : 120 + 20 * rand(),
    [F.latencyP99Ms]: down ? 60_000 + (t - OUTAGE[0]) : drain ? 120_000 * (1 - sinceUp / 6) + 420 : 380 + 90 * rand(),
    [F.latencyMaxMs]: down ? 61_000 + (t - OUTAGE[0]) : drain ? 125_000 * (1 - sinceUp / 6) + 700 : 650 + 300 * rand(),
    [F.deadLettered]: min > 45 && min < 47 && k === 0 ? Math.round(40 + 30 * rand()) : rand() < 0.05 ? 1 : 0,
    [F.bufferFill]: down ? Math.min(1, (t - OUTAGE[0]) / (4 * 60_000)) : drain ? Math.max(0.02, 1 - sinceUp / 2) : 0.02 + 0.03 * rand(),
    [F.influxRetries]: down ? Math.round(3 + 2 * rand()) : 0,
    [F.modelCallP50Ms]: 28 + 4 * k + 6 * rand() + (drain ? 20 : 0),
    [F.modelCallP99Ms]: 70 + 8 * k + 25 * rand() + (drain ? 60 : 0),
    [F.modelBatchSize]: drain ? 256 : down ? 0 : 40 + 20 * rand(),
    [F.workerQueueDepth]: drain ? Math.round(600 * (1 - sinceUp / 6)) : Math.round(8 * rand()),
    [F.entitiesWarmup]: warmup,
    [F.entitiesColdStart]: cold,
    [F.entitiesScoring]: 60 + 10 * k - warmup - cold,
  };
}

function points(): IPoint[] {
  const rand = mulberry32(11);
  return INSTANCES.flatMap((instance, k) => Array.from({ length: HOUR / STEP }, (_, j) => {
    const t = from + (j + 1) * STEP;
    return { measurement: INTERNAL_MEASUREMENT, tags: { [INTERNAL_TAGS.instance]: instance }, fields: figures(k, t, rand), timestamp: t };
  }));
}

const cfg = loadConfig();
const url = process.env.INFLUX_URL ?? `http://127.0.0.1:${cfg.stack.influxPort}`;
const database = `dashboard_png_${Date.now().toString(36)}`;
const writer = createInfluxWriter({ ...cfg.sinks.influx, url, database }, {});
const u = new URL(url);
const influx = new InfluxDB({ host: u.hostname, port: Number(u.port || 8086), database });
try {
  await writer.ensureDatabase();
  await writer.write(points());
  await writer.close();
  const dashboard = pipelineDashboard();
  const queries = expandDashboardQueries(dashboard, { from, to, intervalMs: 30_000, variables: { instance: INSTANCES } }).filter((q) => q.site === 'panel');
  const panels = [];
  for (const panel of dashboard.panels as Json[]) {
    const q = queries.find((x) => x.panelId === panel.id);
    if (!q) continue;
    const answer = (await influx.queryRaw(q.influxql, { precision: 'ms' })) as { results: { error?: string; series?: InfluxSeries[] }[] };
    if (answer.results[0].error) throw new Error(`${q.title}: ${answer.results[0].error}`);
    panels.push({ panel, series: answer.results[0].series ?? [] });
  }
  const html = panelReportHtml({
    title: String(dashboard.title), from, to, panels,
    subtitle: `grafana/dashboards/diffwatch-pipeline.json, every panel query run on InfluxDB 1.x over one hour of ${INTERNAL_MEASUREMENT} points of two instances ($__interval = 30s)`,
  });
  const work = mkdtempSync(join(tmpdir(), 'diffwatch-png-'));
  const htmlFile = resolve(args.html ?? join(work, 'pipeline-health.html'));
  mkdirSync(dirname(htmlFile), { recursive: true });
  writeFileSync(htmlFile, html);
  const out = resolve(args.out!);
  mkdirSync(dirname(out), { recursive: true });
  await screenshot(htmlFile, out, { width: 1204, height: 1440, profileDir: join(work, 'profile') });
  rmSync(work, { recursive: true, force: true });
  process.stdout.write(`wrote ${out} (${panels.length} panels)\n`);
} finally {
  await influx.dropDatabase(database);
}
