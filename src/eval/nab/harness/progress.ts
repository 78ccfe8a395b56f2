/**
 * Progress of a NAB run, per file and overall:
 *
 * - on a TTY, one stderr line rewritten in place (at most every `redrawMs`):
 *     nab [#######.............]  35%  41/116  eta 1m12s | baseline realTweets/Twitter_volume_FB.csv [####......]  40%
 * - otherwise (CI, a pipe, a file), one structured log line per file and detector.
 */
import type { Logger } from '../../../log.ts';
import { formatDuration, type ProgressStream } from '../../../modelOps/progress.ts';

export interface FileStart {
  path: string;
  detector: string;
  rows: number;
}

export interface FileDone extends FileStart {
  wallMs: number;
  lateRows: number;
  alertOnsets: number;
}

export interface RunProgress {
  fileStart(f: FileStart): void;
  /** Rows of the current file scored so far. */
  fileRows(done: number): void;
  fileDone(f: FileDone): void;
  /** Ends the TTY line. */
  done(): void;
}

export interface RunProgressOptions {
  /** Files times detectors. */
  tasks: number;
  /** Rows over all tasks (each file's rows once per detector). */
  totalRows: number;
  log: Logger;
  stream?: ProgressStream;
  tty?: boolean;
  /** ms between redraws of the TTY line. Default 100. */
  redrawMs?: number;
  now?: () => number;
}

/** `bar(0.4, 10)` → `[####......]` */
export function bar(fraction: number, width: number): string {
  const full = Math.round(Math.min(Math.max(fraction, 0), 1) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

const pct = (f: number) => `${Math.floor(Math.min(Math.max(f, 0), 1) * 100)}%`.padStart(4);

export function createRunProgress(opts: RunProgressOptions): RunProgress {
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? stream.isTTY === true;
  const now = opts.now ?? (() => performance.now());
  const redrawMs = opts.redrawMs ?? 100;
  const started = now();
  let rowsBefore = 0; // rows of finished tasks
  let tasksDone = 0;
  let current: FileStart | null = null;
  let currentRows = 0;
  let lastDraw = -Infinity;
  let drawn = false;

  const line = (): string => {
    const done = rowsBefore + currentRows;
    const overall = opts.totalRows > 0 ? done / opts.totalRows : 1;
    const elapsed = now() - started;
    const eta = done > 0 ? (elapsed * (opts.totalRows - done)) / done : NaN;
    const head = `nab ${bar(overall, 20)} ${pct(overall)}  ${tasksDone}/${opts.tasks}  eta ${Number.isFinite(eta) ? formatDuration(eta) : '?'}`;
    if (!current) return head;
    return `${head} | ${current.detector} ${current.path} ${bar(current.rows > 0 ? currentRows / current.rows : 1, 10)} ${pct(current.rows > 0 ? currentRows / current.rows : 1)}`;
  };
  const draw = (force: boolean) => {
    if (!tty) return;
    const t = now();
    if (!force && t - lastDraw < redrawMs) return;
    lastDraw = t;
    // \r back to column 0, ESC[2K clears the previous, possibly longer, line.
    stream.write(`\r\x1b[2K${line()}`);
    drawn = true;
  };

  return {
    fileStart(f) {
      current = f;
      currentRows = 0;
      draw(true);
    },
    fileRows(done) {
      currentRows = Math.min(done, current?.rows ?? done);
      draw(false);
    },
    fileDone(f) {
      rowsBefore += f.rows;
      tasksDone++;
      current = null;
      currentRows = 0;
      if (tty) draw(true);
      else opts.log.info('nab file scored', { detector: f.detector, file: f.path, rows: f.rows, ms: Math.round(f.wallMs), lateRows: f.lateRows, alertOnsets: f.alertOnsets, task: tasksDone, tasks: opts.tasks });
    },
    done() {
      if (tty && drawn) stream.write('\n');
      drawn = false;
    },
  };
}
