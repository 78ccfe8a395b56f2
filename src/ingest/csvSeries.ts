/**
 * Reading a series from CSV: a header row, then `timestamp,value[,value...]` rows.
 * Timestamps are epoch milliseconds or date-times; a date-time without a zone is UTC
 * (NAB's files are written that way).
 */
import { readFileSync } from 'node:fs';
import { DiffwatchError } from '../errors.ts';

export interface CsvSeries {
  channels: string[];
  /** Epoch ms per row. */
  timestamps: Float64Array;
  /** Row-major values, `values[i * C + c]`.  // [N, C] */
  values: Float64Array;
  /** The timestamp column exactly as written, for writing results back. */
  rawTimestamps: string[];
}

export function parseTimestamp(raw: string, where: { file: string; line: number }): number {
  const s = raw.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  const iso = s.includes('T') ? s : s.replace(' ', 'T');
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(iso) ? iso : iso + 'Z';
  const t = Date.parse(zoned);
  if (!Number.isFinite(t)) throw new DiffwatchError('CSV_INVALID', `${where.file}:${where.line}: cannot parse timestamp "${raw}"`, { coords: { file: where.file, line: where.line } });
  return t;
}

export function readCsvSeries(file: string, opts: { columns?: string[] } = {}): CsvSeries {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length < 2) throw new DiffwatchError('CSV_INVALID', `${file}: needs a header row and at least one data row`, { coords: { file } });
  const header = lines[0].split(',').map((h) => h.trim());
  const all = header.slice(1);
  const channels = opts.columns && opts.columns.length > 0 ? opts.columns : all;
  const idx = channels.map((c) => {
    const i = all.indexOf(c);
    if (i < 0) throw new DiffwatchError('CSV_INVALID', `${file}: no column "${c}"; columns are ${all.join(', ')}`, { coords: { file } });
    return i + 1;
  });
  const n = lines.length - 1;
  const C = channels.length;
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n * C);
  const rawTimestamps: string[] = new Array(n);
  for (let r = 0; r < n; r++) {
    const cells = lines[r + 1].split(',');
    rawTimestamps[r] = cells[0];
    timestamps[r] = parseTimestamp(cells[0], { file, line: r + 2 });
    for (let c = 0; c < C; c++) {
      const v = Number(cells[idx[c]]);
      if (!Number.isFinite(v)) throw new DiffwatchError('CSV_INVALID', `${file}:${r + 2}: column ${channels[c]} is not a finite number ("${cells[idx[c]]}")`, { coords: { file, line: r + 2 } });
      values[r * C + c] = v;
    }
  }
  return { channels, timestamps, values, rawTimestamps };
}
