/**
 * Progress of long CLI work (train, score, replay, eval nab, eval synthetic), for a person or
 * for a log collector:
 *
 * - stderr is a TTY: one cli-progress bar with an ETA, redrawn in place; log lines written
 *   meanwhile are printed above it:
 *     train [████████░░░░░░░░░░░░]  41% 1290/3140 eta 72s  epoch 4/10  loss 0.2143  val 0.2011
 * - otherwise (CI, a pipe, a file): no control characters. Each milestone (an epoch, a file, a
 *   case) is one structured log line, and steady work logs a `progress` line at most every
 *   `logEveryMs`, since carriage returns turn a log into one unreadable line.
 *
 * Commands create one and pass plain callbacks down (`onProgress`, `onCase`, ...), so the model
 * and the evaluation code know nothing of terminals.
 *
 * Example:
 *   const progress = createProgress({ title: 'score', log });
 *   try { for (...) progress.update(done, total); } finally { progress.stop(); }
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { setLogSink, type Logger, type LogSink } from '../log.ts';

export interface Progress {
  /** `done` of `total` units so far; `status` is the text after the bar (TTY only). The first call starts the bar. */
  update(done: number, total: number, status?: string): void;
  /** A milestone: one structured log line off a TTY; on a TTY, `status` replaces the bar's text. */
  milestone(msg: string, fields: Record<string, unknown>, status?: string): void;
  /** Ends the bar; safe to call twice. */
  stop(): void;
}

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** The word before the bar, e.g. `train`. */
  title: string;
  /** Receives the milestones and `progress` lines off a TTY. */
  log: Logger;
  /** Where the bar goes; a bar only when `stream.isTTY`. Default process.stderr. */
  stream?: ProgressStream;
  /** ms between `progress` log lines off a TTY. Default 10 000. */
  logEveryMs?: number;
  now?: () => number;
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  return stream.isTTY === true ? barProgress(opts.title, stream) : logProgress(opts);
}

function barProgress(title: string, stream: ProgressStream): Progress {
  // A MultiBar of one bar, since only MultiBar can print log lines above the bar (`log`).
  const bars = new MultiBar(
    {
      stream: stream as NodeJS.WritableStream,
      format: `${title} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}  {status}`,
      etaBuffer: 200, // updates the ETA averages over; the default 10 jitters on per-step updates
      autopadding: true,
    },
    Presets.shades_classic,
  );
  let bar: SingleBar | undefined;
  let stopped = false;
  let status = '';
  let restoreSink: LogSink | undefined;
  return {
    update(done, total, next) {
      if (stopped) return;
      if (next !== undefined) status = next;
      if (!bar) {
        bar = bars.create(total, done, { status });
        // A log line written to stderr would land in the middle of the bar: print it above instead.
        restoreSink = setLogSink((line) => bars.log(`${line}\n`));
        return;
      }
      if (bar.getTotal() !== total) bar.setTotal(total);
      bar.update(done, { status });
    },
    milestone(_msg, _fields, next) {
      if (next === undefined || stopped) return;
      status = next;
      bar?.update({ status });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (restoreSink) setLogSink(restoreSink);
      if (!bar) return;
      bars.update(); // flushes the log lines still buffered, which stop() would drop
      bars.stop();
    },
  };
}

function logProgress(opts: ProgressOptions): Progress {
  const now = opts.now ?? (() => performance.now());
  const every = opts.logEveryMs ?? 10_000;
  let startedAt: number | undefined;
  let lastLog = 0;
  return {
    update(done, total) {
      const t = now();
      if (startedAt === undefined) {
        startedAt = lastLog = t;
        return;
      }
      if (t - lastLog < every) return;
      lastLog = t;
      const etaMs = done > 0 ? Math.round(((t - startedAt) * (total - done)) / done) : null;
      opts.log.info('progress', { done, total, percent: Math.floor((100 * done) / Math.max(total, 1)), etaMs });
    },
    milestone(msg, fields) {
      opts.log.info(msg, fields);
    },
    stop() {},
  };
}
