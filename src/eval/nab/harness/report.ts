/**
 * `<out>/report.html`: one self-contained page (inline CSS and SVG, no scripts, nothing
 * fetched) with the score table and one plot per series.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CorpusRun } from './runCorpus.ts';
import { PROFILE_ORDER, type ScoreboardRow } from './scoreboard.ts';
import type { RunSummary } from './summary.ts';
import { esc, svgPlot } from './svgPlot.ts';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#8c564b', '#e377c2'];

const num = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(1));

function scoreTable(summary: RunSummary, board: readonly ScoreboardRow[]): string {
  const head = `<tr><th>detector</th>${PROFILE_ORDER.map((p) => `<th>${p}</th>`).join('')}${PROFILE_ORDER.map((p) => `<th>alerts: ${p}</th>`).join('')}<th>TP</th><th>FN</th><th>FP</th><th>mean delay (rows)</th><th>wall s</th></tr>`;
  const ours = Object.entries(summary.detectors).map(([name, d], k) => {
    const std = d.profiles.standard;
    return `<tr><td style="color:${PALETTE[k % PALETTE.length]}">${esc(name)}</td>${PROFILE_ORDER.map((p) => `<td>${num(d.scores[p])}</td>`).join('')}${PROFILE_ORDER.map((p) => `<td>${num(d.alerts.scores[p])}</td>`).join('')}<td>${std?.windows.tp ?? '–'}</td><td>${std?.windows.fn ?? '–'}</td><td>${std?.windows.fp ?? '–'}</td><td>${num(std?.delay.meanRows ?? undefined)}</td><td>${(d.wallMs / 1000).toFixed(1)}</td></tr>`;
  });
  const theirs = board.map((r) => `<tr class="board"><td>${esc(r.label)}</td>${PROFILE_ORDER.map((p) => `<td>${num(r.scores[p])}</td>`).join('')}<td colspan="8"></td></tr>`);
  return `<table>${head}${ours.join('')}${theirs.join('')}</table>`;
}

export function renderReport(run: CorpusRun, summary: RunSummary, board: readonly ScoreboardRow[] = []): string {
  const c = summary.corpus;
  const plots = run.files.map((f, i) => {
    const svg = svgPlot({
      title: f.path,
      values: f.series.values,
      windowRows: f.windowRows,
      probationaryRows: f.probationaryRows,
      firstTime: f.series.rawTimestamps[0] ?? '',
      lastTime: f.series.rawTimestamps[f.series.rawTimestamps.length - 1] ?? '',
      series: run.runs.map((dr, k) => ({
        detector: dr.detector.name,
        color: PALETTE[k % PALETTE.length],
        scores: dr.files[i].scores,
        threshold: summary.detectors[dr.detector.name]?.profiles.standard?.threshold ?? Number.NaN,
        alertThreshold: dr.files[i].alertThreshold,
        alertOnsets: dr.files[i].alertOnsets,
      })),
    });
    return `<section><h2>${esc(f.path)}</h2><p>${f.series.timestamps.length} rows, ${f.windows.length} label windows, probationary ${f.probationaryRows} rows</p>${svg}</section>`;
  });
  return [
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>diffwatch NAB report</title>',
    '<style>body{font-family:sans-serif;margin:16px;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child{text-align:left}tr.board{color:#777}section{margin:18px 0}h2{font-size:15px;margin:4px 0}p{margin:2px 0;font-size:12px;color:#555}</style>',
    '</head><body>',
    `<h1>NAB v1.1: ${c.files} files, ${c.rows} rows, ${c.labelWindows} label windows</h1>`,
    c.complete ? '' : '<p><b>A subset of the corpus: the scores are not comparable to the scoreboard rows.</b></p>',
    scoreTable(summary, board),
    '<p>Shaded: label windows; grey: probationary period; dashed: optimised threshold (standard profile); dotted: alert threshold; triangles: alert onsets.</p>',
    ...plots,
    '</body></html>',
  ].join('\n');
}

/** Writes `<out>/report.html` and returns its path. */
export async function writeReport(outDir: string, html: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, 'report.html');
  await writeFile(path, html);
  return path;
}
