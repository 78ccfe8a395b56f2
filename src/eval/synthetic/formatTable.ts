/**
 * The suite's table, one per layout: a row per anomaly type, and per detector
 * `AUC / AUC-PR / delay (detected/segments)`. AUC and AUC-PR are means over the cases; the delay
 * is the median, in rows, over the detected segments; `–` when none was detected.
 */
import type { SuiteResult } from './runSuite.ts';
import type { TypeSummary } from './metrics.ts';

const cell = (s: TypeSummary | undefined): string => {
  if (!s) return '';
  const delay = s.medianDelay === null ? '–' : String(Math.round(s.medianDelay));
  return `${s.auc.toFixed(3)} / ${s.averagePrecision.toFixed(3)} / ${delay} (${s.detected}/${s.segments})`;
};

export function formatSuiteTable(r: SuiteResult, markdown = false): string {
  const names = r.detectors.map((d) => d.name);
  const out: string[] = [];
  for (const [layout, types] of Object.entries(r.summary)) {
    const rows = Object.entries(types).map(([type, byDetector]) => [type, ...names.map((n) => cell(byDetector[n]))]);
    const head = [`${layout} (${r.casesPerType} cases/type)`, ...names.map((n) => `${n}: AUC / AUC-PR / delay (det)`)];
    out.push(markdown ? markdownTable(head, rows) : plainTable(head, rows), '');
  }
  return out.join('\n').trimEnd();
}

function plainTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function markdownTable(head: string[], rows: string[][]): string {
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
