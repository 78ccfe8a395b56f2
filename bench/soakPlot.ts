/**
 * The soak's curves as a PNG: one panel per series (and the windows scored per second and the
 * machine's load average for context), drawn with the dashboards' HTML/SVG panel report and
 * screenshotted with headless Chromium (src/dashboards/panelReport.ts; scripts/ensure-chromium.sh).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { panelReportHtml, screenshot, type PanelResult } from '../src/dashboards/panelReport.ts';
import { SERIES, type SoakSample, type Trend } from './soakTrend.ts';

const MIB = 1024 * 1024;
const clock = (t: number) => new Date(t).toISOString().slice(11, 19) + ' UTC';

function panel(title: string, description: string, column: string, points: [number, number | null][]): PanelResult {
  return {
    panel: { title, description, type: 'timeseries', fieldConfig: { defaults: { unit: 'short' } }, targets: [{ alias: column }] },
    series: [{ name: 'soak', columns: ['time', column], values: points }],
  };
}

/** Windows per second between consecutive samples at least a second apart (the last one follows the one before it closely). */
function rates(samples: readonly SoakSample[]): [number, number | null][] {
  const out: [number, number | null][] = [];
  let prev = samples[0];
  for (const s of samples.slice(1)) {
    if (s.t - prev.t < 1_000) continue;
    const a = prev.windowsScored;
    const b = s.windowsScored;
    out.push([s.t, a === null || b === null ? null : (b - a) / ((s.t - prev.t) / 1_000)]);
    prev = s;
  }
  return out;
}

export function soakHtml(o: { title: string; subtitle: string; samples: readonly SoakSample[]; warmupEndMs: number; trends: readonly Trend[] }): string {
  const { samples } = o;
  const from = samples[0]?.t ?? 0;
  const to = samples[samples.length - 1]?.t ?? from + 1;
  const panels = SERIES.map((s) => {
    const tr = o.trends.find((x) => x.key === s.key)!;
    const scale = s.unit === 'MiB' ? MIB : 1;
    const slope = `${(tr.slopePerHour / scale).toPrecision(3)}${s.unit ? ` ${s.unit}` : ''}/h (${Number.isNaN(tr.relativePerHour) ? '–' : `${(tr.relativePerHour * 100).toFixed(1)} %`}/h)`;
    return panel(`${s.title}${s.unit ? `, ${s.unit}` : ''}: ${tr.verdict}`, `after warm-up (from ${clock(o.warmupEndMs)}): slope ${slope}`, s.key, samples.map((x) => [x.t, x[s.key] == null ? null : (x[s.key] as number) / scale]));
  });
  panels.push(panel('Windows scored per second', 'windows durable in every sink, between samples', 'windows/s', rates(samples)));
  panels.push(panel('Machine load average (1 min)', 'os.loadavg()[0] of the machine, every process on it', 'load1', samples.map((x) => [x.t, x.load1])));
  return panelReportHtml({ title: o.title, subtitle: o.subtitle, from, to, panels });
}

/** Writes `<dir>/soak.html` and screenshots it into `pngFile`. */
export async function drawSoak(dir: string, pngFile: string, html: string, rows: number): Promise<void> {
  const htmlFile = join(dir, 'soak.html');
  writeFileSync(htmlFile, html);
  const profileDir = join(dir, 'chromium-profile');
  mkdirSync(profileDir, { recursive: true });
  try {
    // A panel is about 260 px high with its title and legend; two per row.
    await screenshot(htmlFile, pngFile, { width: 1204, height: 90 + rows * 262, profileDir });
  } finally {
    rmSync(profileDir, { recursive: true, force: true });
  }
}
