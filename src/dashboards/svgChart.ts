/**
 * One dashboard panel's time series as inline SVG: a line per series (bars stacked when the
 * panel stacks), a y axis from 0 (or the lowest value) to the highest, the range's first and last
 * time under the x axis (the legend is the caller's, as HTML that wraps). No scripts, nothing fetched, so a headless browser
 * renders it as is (the NAB report's approach, src/eval/nab/harness/svgPlot.ts).
 */

export interface ChartSeries {
  name: string;
  /** [epoch ms, value] in time order; null values are gaps. */
  points: readonly (readonly [number, number | null])[];
}

export interface ChartInput {
  series: readonly ChartSeries[];
  from: number;
  to: number;
  /** Grafana unit of the panel: `ms`, `percentunit`, `short`. */
  unit: string;
  stacked?: boolean;
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#e377c2'];
const W = 560;
const H = 176;
const LEFT = 60;
const TOP = 8;
const PLOT_H = 150;

export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fx = (v: number) => v.toFixed(1);

export function formatValue(v: number, unit: string): string {
  if (unit === 'percentunit') return `${(v * 100).toFixed(0)} %`;
  if (unit === 'ms' && Math.abs(v) >= 1_000) return `${(v / 1_000).toPrecision(3)} s`;
  const n = Math.abs(v) >= 1_000 ? `${(v / 1_000).toFixed(1)}k` : Number.isInteger(v) ? String(v) : v.toPrecision(3);
  return unit === 'ms' ? `${n} ms` : n;
}

const clock = (t: number) => new Date(t).toISOString().slice(11, 16) + ' UTC';

/** Stacked series: each series' values added to the ones below it, per timestamp. */
function stack(series: readonly ChartSeries[]): ChartSeries[] {
  const base = new Map<number, number>();
  return series.map((s) => ({
    name: s.name,
    points: s.points.map(([t, v]) => {
      const top = (base.get(t) ?? 0) + (v ?? 0);
      base.set(t, top);
      return [t, top] as const;
    }),
  }));
}

/** The legend as HTML: a coloured square and the name of each series, wrapping as needed. */
export const legendHtml = (series: readonly ChartSeries[]) =>
  `<div class="legend">${series.map((s, k) => `<span><b style="color:${PALETTE[k % PALETTE.length]}">■</b> ${esc(s.name)}</span>`).join(' ')}</div>`;

export function svgChart(c: ChartInput): string {
  const drawn = c.stacked ? stack(c.series) : c.series;
  const values = drawn.flatMap((s) => s.points.map(([, v]) => v)).filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = Math.min(0, ...values);
  const hi = c.unit === 'percentunit' ? 1 : Math.max(lo + 1e-9, ...values);
  const plotW = W - LEFT - 8;
  const xOf = (t: number) => LEFT + ((t - c.from) / Math.max(1, c.to - c.from)) * plotW;
  const yOf = (v: number) => TOP + PLOT_H - ((v - lo) / (hi - lo)) * PLOT_H;
  const parts = [`<rect x="${LEFT}" y="${TOP}" width="${plotW}" height="${PLOT_H}" fill="#fff" stroke="#ccc"/>`];
  for (const v of [lo, (lo + hi) / 2, hi]) {
    parts.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${fx(yOf(v))}" y2="${fx(yOf(v))}" stroke="#eee"/><text x="${LEFT - 4}" y="${fx(yOf(v) + 4)}" text-anchor="end">${esc(formatValue(v, c.unit))}</text>`);
  }
  // Stacked: draw the top series first so the lower ones stay visible over it.
  drawn.map((s, k) => ({ s, k })).reverse().forEach(({ s, k }) => {
    const color = PALETTE[k % PALETTE.length];
    const runs: string[][] = [[]];
    for (const [t, v] of s.points) {
      if (v === null || !Number.isFinite(v)) runs.push([]);
      else runs[runs.length - 1].push(`${fx(xOf(t))},${fx(yOf(v))}`);
    }
    for (const run of runs.filter((r) => r.length > 0)) {
      const [x0, x1] = [run[0].split(',')[0], run.at(-1)!.split(',')[0]];
      if (c.stacked) parts.push(`<polygon class="series" fill="${color}" fill-opacity="0.8" stroke="${color}" points="${x0},${fx(yOf(lo))} ${run.join(' ')} ${x1},${fx(yOf(lo))}"/>`);
      else parts.push(`<polyline class="series" fill="none" stroke="${color}" stroke-width="1.5" points="${run.join(' ')}"/>`);
    }
  });
  parts.push(`<text x="${LEFT}" y="${TOP + PLOT_H + 14}">${esc(clock(c.from))}</text><text x="${LEFT + plotW}" y="${TOP + PLOT_H + 14}" text-anchor="end">${esc(clock(c.to))}</text>`);
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">${parts.join('')}</svg>`;
}
