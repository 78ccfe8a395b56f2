/** A short human-readable table of a NAB report, one line per profile. */
import type { NabReport, ProfileScore } from './nabScore.ts';

const num = (v: number, digits: number, width: number) => v.toFixed(digits).padStart(width);

function line(profile: string, label: string, s: ProfileScore): string {
  return [
    profile.padEnd(20),
    label.padEnd(9),
    num(s.normalised, 2, 8),
    num(s.raw, 3, 9),
    String(s.threshold.toPrecision(6)).padStart(10),
    String(s.windows.tp).padStart(5),
    String(s.windows.fn).padStart(5),
    String(s.windows.fp).padStart(6),
  ].join(' ');
}

/**
 * @example formatReport(report)
 * // NAB v1.1: numenta, 58 files, 365558 rows, 116 windows
 * // profile              threshold   score       raw  threshold    TP    FN     FP
 * // standard             optimised   70.10    46.634   0.542188   ...
 */
export function formatReport(report: NabReport): string {
  const out = [
    `NAB v1.1: ${report.detector}, ${report.files} files, ${report.rows} rows, ${report.labelWindows} windows`,
    `${'profile'.padEnd(20)} ${'threshold'.padEnd(9)} ${'score'.padStart(8)} ${'raw'.padStart(9)} ${'value'.padStart(10)} ${'TP'.padStart(5)} ${'FN'.padStart(5)} ${'FP'.padStart(6)}`,
  ];
  for (const [name, p] of Object.entries(report.profiles)) {
    out.push(line(name, 'optimised', p.optimised));
    if (p.stored) out.push(line(name, 'stored', p.stored));
  }
  out.push('TP, FN: label windows detected and missed; FP: detections outside every window.');
  return out.join('\n');
}
