/**
 * The end of a soak run: judge each series after warm-up (soakTrend.ts), write summary.json,
 * print the table and draw soak.png. `npm run soak -- --report <dir>` calls it again on a
 * finished run's files.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { drawSoak, soakHtml } from './soakPlot.ts';
import { SERIES, seriesTrends, warmupEnd, type SoakSample, type Trend } from './soakTrend.ts';

const MIB = 1024 * 1024;
const say = (line: string) => process.stdout.write(`${line}\n`);

/** What the run itself knows: its settings and how it ended. */
export interface RunMeta {
  run: string;
  command: string;
  settings: { minutes: number; entities: number; channels: number; rate: number; sampleS: number; coldWindows: number; windowLength: number; periodS: number; settleS: number; gcEveryS?: number };
  names: Record<string, string>;
  startedAt: string;
  readingsProduced: number;
  serviceExit: number | null;
}

export const fmt = (v: number, unit: string) => (Number.isNaN(v) ? '–' : unit === 'MiB' ? (v / MIB).toFixed(1) : String(Math.round(v * 10) / 10));

function table(trends: readonly Trend[]): string {
  const rows = [['series', 'start', 'after warm-up', 'end', 'mean', 'slope/h', 'slope/h of mean', 'verdict']];
  for (const tr of trends) {
    const s = SERIES.find((x) => x.key === tr.key)!;
    const u = s.unit;
    rows.push([`${s.title}${u ? ` (${u})` : ''}`, fmt(tr.start, u), fmt(tr.afterWarmup, u), fmt(tr.end, u), fmt(tr.mean, u), u === 'MiB' ? (tr.slopePerHour / MIB).toFixed(2) : tr.slopePerHour.toFixed(2), Number.isNaN(tr.relativePerHour) ? '–' : `${(tr.relativePerHour * 100).toFixed(1)} %`, tr.verdict]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ')).join('\n');
}

/** Per second of wall time between the first and last judged samples: windows scored, service CPU seconds, seconds in scorer calls. */
function headroom(judged: readonly SoakSample[]) {
  const [first, last] = [judged[0], judged[judged.length - 1]];
  const per = (k: 'windowsScored' | 'cpuSeconds' | 'modelCallSeconds') =>
    judged.length < 2 || first[k] == null || last[k] == null ? null : ((last[k] as number) - (first[k] as number)) / ((last.t - first.t) / 1_000);
  return { windowsPerSecond: per('windowsScored'), serviceCpuCores: per('cpuSeconds'), scorerBusyFraction: per('modelCallSeconds') };
}

export async function writeReport(dir: string, samples: readonly SoakSample[], meta: RunMeta, png: string): Promise<void> {
  const S = meta.settings;
  const startedAt = Date.parse(meta.startedAt);
  const warmupEndMs = warmupEnd(samples, S.entities, S.settleS * 1_000);
  const trends = seriesTrends(samples, warmupEndMs);
  const loads = samples.map((s) => s.load1 ?? NaN).filter((v) => !Number.isNaN(v));
  const summary = {
    ...meta,
    model: { scorer: 'diffusion', use: 'entity (cold start)', backend: 'wasm', workers: 1, training: { width: 16, depth: 2, epochs: 4, stride: 2, draws: 2 }, windowLength: S.windowLength, hop: 1 },
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    warmupEnd: new Date(warmupEndMs).toISOString(),
    warmupEndMinutes: (warmupEndMs - startedAt) / 60_000,
    windowsScored: samples[samples.length - 1]?.windowsScored ?? null,
    samples: samples.length,
    load1: { mean: loads.reduce((s, v) => s + v, 0) / loads.length, min: Math.min(...loads), max: Math.max(...loads) },
    afterWarmup: headroom(samples.filter((s) => s.t >= warmupEndMs)),
    trends,
    verdict: trends.every((t) => t.verdict === 'flat') ? 'flat' : 'growing',
  };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2));
  say(`\nwarm-up ends ${summary.warmupEnd} (${summary.warmupEndMinutes.toFixed(1)} min); load average ${summary.load1.mean.toFixed(2)} (${summary.load1.min.toFixed(2)}–${summary.load1.max.toFixed(2)}); service exit ${meta.serviceExit}`);
  const h = summary.afterWarmup;
  if (h.windowsPerSecond !== null) say(`after warm-up: ${h.windowsPerSecond.toFixed(2)} windows/s; service CPU ${h.serviceCpuCores?.toFixed(2)} cores; scorer busy ${((h.scorerBusyFraction ?? NaN) * 100).toFixed(1)} % of the time`);
  say(table(trends));
  say(`verdict: ${summary.verdict}`);

  const html = soakHtml({
    title: `diffwatch soak: ${S.minutes} min, diffusion scorer`,
    subtitle: `${S.entities} entities × ${S.channels} channels at ${S.rate} readings/s each, window ${S.windowLength}, hop 1; a model per entity (cold start ${S.coldWindows} windows); ${cpus().length} cores, load average ${summary.load1.mean.toFixed(2)}; ${meta.run}`,
    samples, warmupEndMs, trends,
  });
  await drawSoak(dir, png, html, Math.ceil((SERIES.length + 2) / 2));
  say(`wrote ${join(dir, 'samples.jsonl')}, ${join(dir, 'summary.json')}, ${png}`);
}
