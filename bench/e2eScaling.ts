/**
 * How the service's cost grows with entities and channels: `bench/e2e.ts` runs at each point of
 * two sweeps, and the medians are written as JSON and drawn as a PNG (vega-lite to SVG,
 * screenshotted with headless Chromium).
 *
 *   npm run bench:e2e:scaling -- [--entities 1,10,100,1000,10000] [--channels 1,8,32,64]
 *                                [--scorer baseline] [--runs 1] [--seconds 15]
 *                                [--json <file>] [--png <file>]
 *   npm run bench:e2e:scaling -- --plot <json> --png <file>     # redraw from a saved run
 *
 * Entities are swept with 8 channels, channels with 100 entities. Every point gets a backlog of
 * 100,000 readings (at least L + 36 per entity) so that the drain lasts long enough to measure,
 * which leaves the detectors of large fleets in warm-up: alerts are timed by `bench:e2e` at 100
 * entities, not here.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Command } from '../src/cli/command.ts';
import { screenshot } from '../src/dashboards/panelReport.ts';
import { DiffwatchError } from '../src/errors.ts';
import { rootLogger } from '../src/log.ts';
import { ensureServices, median } from './common.ts';
import { parseOptions, runOnce, type RunResult } from './e2e.ts';

const log = rootLogger.namespace('bench.e2e.scaling');
const ROOT = resolve(import.meta.dirname, '..');

export interface ScalingPoint {
  sweep: 'entities' | 'channels';
  entities: number;
  channels: number;
  runs: number;
  readingsPerS: number;
  windowsPerS: number;
  ratioToConsume: number;
  drainCores: number;
  rssMiB: number;
  peakRssMiB: number;
  rssPerEntityKiB: number;
  stateBytesPerEntity: number;
  liveRate: number;
  scoreP99Ms: number;
  maxLagMessages: number;
}

function point(sweep: ScalingPoint['sweep'], entities: number, channels: number, runs: readonly RunResult[]): ScalingPoint {
  const m = (f: (r: RunResult) => number) => median(runs.map(f));
  const rssMiB = m((r) => r.drainRssMiB);
  return {
    sweep, entities, channels, runs: runs.length,
    readingsPerS: m((r) => r.drainReadingsPerS),
    windowsPerS: m((r) => r.drainWindowsPerS),
    ratioToConsume: m((r) => r.ratioToConsume),
    drainCores: m((r) => r.drainCores),
    rssMiB,
    peakRssMiB: m((r) => r.peakRssMiB),
    rssPerEntityKiB: (rssMiB * 1024) / entities,
    stateBytesPerEntity: m((r) => r.stateTopicBytes / r.entities),
    liveRate: m((r) => r.liveRate),
    scoreP99Ms: m((r) => r.scoreLatencyMs.p99),
    maxLagMessages: m((r) => r.maxLagMessages),
  };
}

const list = (s: string) => s.split(',').map((x) => Number(x.trim()));

function chart(title: string, points: readonly ScalingPoint[], x: 'entities' | 'channels', fields: Array<[keyof ScalingPoint, string]>, logY = false): TopLevelSpec {
  const values = points.flatMap((p) => fields.map(([f, name]) => ({ x: p[x], y: p[f] as number, series: name })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 220,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: x, scale: { type: x === 'entities' ? 'log' : 'linear' }, axis: { values: [...new Set(points.map((p) => p[x]))], format: 'd' } },
      y: { field: 'y', type: 'quantitative', title: null, scale: { type: logY ? 'log' : 'linear', zero: !logY } },
      color: { field: 'series', type: 'nominal', legend: { orient: 'bottom', title: null, labelLimit: 300 } },
    },
  };
}

async function svg(spec: TopLevelSpec): Promise<string> {
  return new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' }).toSVG();
}

/** The curves as a PNG: a row of panels per sweep. */
export async function drawScaling(points: readonly ScalingPoint[], subtitle: string, pngFile: string): Promise<void> {
  const e = points.filter((p) => p.sweep === 'entities');
  const c = points.filter((p) => p.sweep === 'channels');
  const specs = [
    chart('Throughput vs entities (8 channels), drained', e, 'entities', [['readingsPerS', 'readings/s'], ['windowsPerS', 'windows/s']]),
    chart('Memory vs entities: RSS MiB after the drain', e, 'entities', [['rssMiB', 'RSS MiB'], ['peakRssMiB', 'peak RSS MiB']], true),
    chart('Per entity: RSS KiB and state-topic bytes', e, 'entities', [['rssPerEntityKiB', 'RSS KiB / entity'], ['stateBytesPerEntity', 'state bytes / entity']], true),
    chart('Throughput vs channels (100 entities), drained', c, 'channels', [['readingsPerS', 'readings/s'], ['windowsPerS', 'windows/s']]),
    chart('Memory vs channels: RSS MiB after the drain', c, 'channels', [['rssMiB', 'RSS MiB'], ['peakRssMiB', 'peak RSS MiB']]),
    chart('Live at half the drained rate: produce → score p99 ms', e, 'entities', [['scoreP99Ms', 'p99 ms']]),
  ];
  const svgs = await Promise.all(specs.map(svg));
  const html = `<!doctype html><html><head><meta charset="utf-8"><style>body{font-family:sans-serif;margin:12px;background:#fff}.g{display:grid;grid-template-columns:repeat(3,1fr);gap:8px}h1{font-size:18px;margin:0}p{margin:4px 0 10px;color:#444;font-size:13px}</style></head><body><h1>diffwatch: cost against entities and channels</h1><p>${subtitle.replace(/</g, '&lt;')}</p><div class="g">${svgs.join('')}</div></body></html>`;
  const dir = mkdtempSync(join(tmpdir(), 'e2e-scaling-'));
  try {
    const htmlFile = join(dir, 'scaling.html');
    writeFileSync(htmlFile, html);
    mkdirSync(join(dir, 'profile'));
    await screenshot(htmlFile, resolve(pngFile), { width: 1560, height: 760, profileDir: join(dir, 'profile') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const f = new Command('bench:e2e:scaling')
    .option('--entities <list>', '', '1,10,100,1000,10000').option('--channels <list>', '', '1,8,32,64')
    .option('--scorer <kind>', '', 'baseline').option('--runs <n>', '', '1').option('--seconds <n>', '', '15')
    .option('--json <file>').option('--png <file>').option('--plot <json>')
    .parse(process.argv.slice(2), { from: 'user' }).opts();
  if (f.plot) {
    const saved = JSON.parse(readFileSync(f.plot, 'utf8')) as { points: ScalingPoint[]; subtitle: string };
    await drawScaling(saved.points, saved.subtitle, f.png ?? join(ROOT, 'docs/img/e2e-scaling.png'));
    return;
  }
  const services = await ensureServices(log);
  const loadBefore = loadavg()[0];
  const points: ScalingPoint[] = [];
  const sweep = async (kind: ScalingPoint['sweep'], entities: number, channels: number) => {
    const backlog = Math.max(64 + 36, Math.ceil(100_000 / entities));
    const o = parseOptions(['--entities', String(entities), '--channels', String(channels), '--scorer', f.scorer, '--seconds', f.seconds, '--backlog', String(backlog), '--runs', f.runs]);
    const runs: RunResult[] = [];
    for (let i = 0; i < o.runs; i++) runs.push(await runOnce(i, o, services));
    points.push(point(kind, entities, channels, runs));
    log.info('point done', { ...points[points.length - 1] });
  };
  for (const e of list(f.entities)) await sweep('entities', e, 8);
  for (const c of list(f.channels)) await sweep('channels', 100, c);
  const subtitle = `scorer ${f.scorer}, window 64, ${f.runs} run(s) per point (medians), ${cpus().length} cores, load average ${loadBefore.toFixed(1)} → ${loadavg()[0].toFixed(1)}, ${new Date().toISOString().slice(0, 16)} UTC`;
  const out = { subtitle, points };
  if (f.json) writeFileSync(f.json, JSON.stringify(out, null, 2) + '\n');
  if (f.png) await drawScaling(points, subtitle, f.png);
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    log.error('benchmark failed', { error: e, ...(e instanceof DiffwatchError ? e.coords : {}) });
    process.exitCode = 1;
  });
}
