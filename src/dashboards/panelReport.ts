/**
 * A dashboard's panels drawn from their InfluxDB query results as one self-contained HTML page
 * (inline CSS and SVG): what Grafana would show, for a screenshot where no Grafana runs
 * (scripts/dashboard-png.ts renders docs/img/pipeline-health.png this way).
 *
 * @example
 * const html = panelReportHtml({ title: 'diffwatch pipeline health', from, to, panels: [{ panel, series }] });
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Json } from './grafana.ts';
import { esc, formatValue, legendHtml, svgChart, type ChartSeries } from './svgChart.ts';

/** One series of an InfluxDB 1.x query answer (`results[0].series[i]`), times in epoch ms. */
export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export interface PanelResult {
  /** The panel as in the dashboard JSON (title, description, type, fieldConfig, targets). */
  panel: Json;
  series: InfluxSeries[];
}

/** Grafana's legend template: `$tag_<key>` and `$col` (the column), otherwise `<measurement>.<column>`. */
export function legendName(alias: string | undefined, s: InfluxSeries, column: string): string {
  if (alias === undefined) return `${s.name}.${column}`;
  return alias.replace(/\$tag_(\w+)/g, (_, k: string) => s.tags?.[k] ?? '').replace(/\$col/g, column).trim();
}

/** Every (series, column) of the answer as a chart series. */
export function chartSeries(series: readonly InfluxSeries[], alias: string | undefined): ChartSeries[] {
  return series.flatMap((s) => s.columns.slice(1).map((column, c) => ({
    name: legendName(alias, s, column),
    points: s.values.map((v) => [Number(v[0]), v[c + 1] === null ? null : Number(v[c + 1])] as const),
  })));
}

function tableHtml(series: readonly InfluxSeries[], unitOf: (column: string) => string): string {
  const tagKeys = [...new Set(series.flatMap((s) => Object.keys(s.tags ?? {})))];
  const columns = series[0]?.columns.slice(1) ?? [];
  const head = [...tagKeys, ...columns].map((c) => `<th>${esc(c)}</th>`).join('');
  const body = series.flatMap((s) => s.values.map((v) => `<tr>${tagKeys.map((k) => `<td>${esc(s.tags?.[k] ?? '')}</td>`).join('')}${columns.map((c, i) => `<td>${typeof v[i + 1] === 'number' ? esc(formatValue(v[i + 1] as number, unitOf(c))) : esc(String(v[i + 1] ?? ''))}</td>`).join('')}</tr>`));
  return `<table><tr>${head}</tr>${body.join('')}</table>`;
}

function panelHtml({ panel, series }: PanelResult, from: number, to: number): string {
  const defaults = ((panel.fieldConfig as Json | undefined)?.defaults ?? {}) as Json;
  const unit = String(defaults.unit ?? 'short');
  const stacked = ((defaults.custom as Json | undefined)?.stacking as Json | undefined)?.mode === 'normal';
  const alias = ((panel.targets as Json[])[0]?.alias as string | undefined);
  const body = panel.type === 'table'
    ? tableHtml(series, (c) => (c.endsWith('_ms') ? 'ms' : c === 'buffer_fill' ? 'percentunit' : 'short'))
    : ((cs) => svgChart({ series: cs, from, to, unit, stacked }) + legendHtml(cs))(chartSeries(series, alias));
  return `<section class="panel"><h2>${esc(String(panel.title))}</h2><p>${esc(String(panel.description ?? ''))}</p>${body}</section>`;
}

export function panelReportHtml(r: { title: string; subtitle: string; from: number; to: number; panels: readonly PanelResult[] }): string {
  return [
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>`,
    '<style>body{font-family:sans-serif;margin:12px;color:#222;background:#f4f5f5;width:1180px}h1{font-size:18px;margin:4px 0}.sub{font-size:12px;color:#555;margin:0 0 8px}'
    + '.grid{display:grid;grid-template-columns:580px 580px;gap:10px}.panel{background:#fff;border:1px solid #ddd;padding:6px}'
    + 'h2{font-size:13px;margin:0 0 2px}.panel p{font-size:10px;color:#666;margin:0 0 4px;height:26px;overflow:hidden}'
    + '.legend{font-size:11px;line-height:15px}.legend span{margin-right:10px;white-space:nowrap}'
    + 'table{border-collapse:collapse;font-size:11px;margin-top:6px}td,th{border:1px solid #ccc;padding:3px 4px;text-align:right}td:first-child,th:first-child{text-align:left}</style>',
    '</head><body>',
    `<h1>${esc(r.title)}</h1><p class="sub">${esc(r.subtitle)}</p>`,
    `<div class="grid">${r.panels.map((p) => panelHtml(p, r.from, r.to)).join('')}</div>`,
    '</body></html>',
  ].join('\n');
}

/** Debian's Chromium, driven directly (scripts/ensure-chromium.sh installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/** Screenshots `file://<htmlFile>` at `width`×`height` CSS pixels into `pngFile` with headless Chromium. */
export async function screenshot(htmlFile: string, pngFile: string, opts: { width: number; height: number; profileDir: string; chromium?: string }): Promise<void> {
  await promisify(execFile)(opts.chromium ?? CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--hide-scrollbars', `--user-data-dir=${opts.profileDir}`, `--screenshot=${pngFile}`, `--window-size=${opts.width},${opts.height}`, `file://${htmlFile}`,
  ], { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
}
