/**
 * Training progress for a person or for a log collector:
 *
 * - on a TTY, one line on stderr rewritten in place:
 *     epoch 3/20  step 41/157  loss 0.2143  val 0.2011  eta 1m12s
 * - otherwise (CI, a pipe, a file), one structured log line per epoch, since carriage
 *   returns turn a log into one unreadable line.
 *
 * Example:
 *   const bar = createProgressBar({ log });
 *   await train(series, cfg, { onProgress: bar.update });
 *   bar.done();
 */
import type { Logger } from '../log.ts';
import type { TrainProgress } from '../model/trainer.ts';

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface ProgressBarOptions {
  /** Where the TTY line goes. Default process.stderr. */
  stream?: ProgressStream;
  /** Forces the TTY form on or off; default `stream.isTTY`. */
  tty?: boolean;
  /** Receives the per-epoch lines in the non-TTY form. */
  log: Logger;
}

export interface ProgressBar {
  update(p: TrainProgress): void;
  /** Ends the TTY line. */
  done(): void;
}

/** 72_000 → "1m12s", 3_900_000 → "1h05m". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatProgress(p: TrainProgress, lastValLoss?: number): string {
  const val = p.valLoss ?? lastValLoss;
  return [
    `epoch ${p.epoch}/${p.epochs}`,
    `step ${p.step}/${p.stepsPerEpoch}`,
    `loss ${p.loss.toFixed(4)}`,
    ...(val !== undefined ? [`val ${val.toFixed(4)}`] : []),
    `eta ${formatDuration(p.etaMs)}`,
  ].join('  ');
}

export function createProgressBar(opts: ProgressBarOptions): ProgressBar {
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? stream.isTTY === true;
  let lastValLoss: number | undefined;
  let drawn = false;
  return {
    update(p) {
      if (tty) {
        // \r back to column 0, ESC[2K clears the previous, possibly longer, line.
        stream.write(`\r\x1b[2K${formatProgress(p, lastValLoss)}`);
        drawn = true;
      } else if (p.valLoss !== undefined) {
        opts.log.info('training epoch', { epoch: p.epoch, epochs: p.epochs, steps: p.stepsPerEpoch, loss: p.loss, valLoss: p.valLoss, etaMs: Math.round(p.etaMs) });
      }
      if (p.valLoss !== undefined) lastValLoss = p.valLoss;
    },
    done() {
      if (tty && drawn) stream.write('\n');
      drawn = false;
    },
  };
}
