/**
 * Train (or, with `initFrom`, fine-tune) a model on a dedicated worker thread and write its
 * checkpoint, so that the calling thread's event loop (Kafka heartbeats, sink acks, timers)
 * keeps running during a fit that can take minutes. One worker per job, started through workerBoot.mjs like the scoring
 * workers, and gone when the job ends.
 *
 * The series' Float64Arrays are moved to the worker, not copied: after the call they are
 * detached (length 0) here. An array that does not own its whole buffer is copied first, so a
 * view never detaches the memory around it.
 *
 * Failures reject with typed errors: the worker's own error with its code and coordinates
 * (e.g. `ModelError('MODEL_INVALID')` for a series too short to split), `TrainingError
 * ('TRAINING_CANCELLED')` when `signal` aborts (the worker is terminated first),
 * `WorkerPoolError('WORKER_CRASHED')` when the thread dies without answering, and a
 * `ConfigError` before any thread starts when `config` or `fineTune` is invalid. A missing or
 * mismatched `initFrom` checkpoint rejects with the worker's MODEL_NOT_FOUND / MODEL_MISMATCH.
 *
 * Example:
 *   const ac = new AbortController();
 *   const { version, dir } = await trainInBackground({ series, config: { epochs: 5 }, outDir: 'models/m2', signal: ac.signal, onProgress: bar.update });
 *   const next = await trainInBackground({ series: recent, initFrom: dir, fineTune: { epochs: 3 }, outDir: 'models/m3' });
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConfigError, DiffwatchError, ModelError, type ErrorCoordinates } from '../errors.ts';
import { rootLogger, type Logger, type LogLevel } from '../log.ts';
import type { BackendPreference } from '../model/backend.ts';
import { resolveModelConfig, type ModelConfig } from '../model/modelConfig.ts';
import { checkFineTuneOptions, type FineTuneOptions } from '../model/fineTuneOptions.ts';
import type { TrainProgress, TrainSeries } from '../model/trainer.ts';
import type { TrainingJob, TrainingMessage, TrainingResult } from './trainingWorker.ts';
import { reviveError, WorkerPoolError } from './workerPool.ts';

export type { TrainingResult } from './trainingWorker.ts';

/** Codes of background-training failures that are not the model's own; they extend ModelError's codes. */
export type TrainingErrorCode = 'TRAINING_CANCELLED' | 'TRAINING_FAILED';

/** Training was cancelled, or failed in the worker with an error that carries no code of its own. */
export class TrainingError extends ModelError {
  constructor(code: TrainingErrorCode, message: string, coords: ErrorCoordinates = {}) {
    super(code, message, coords);
  }
}

export interface TrainInBackgroundOptions {
  /** Row-major `[N, C]` values and N timestamps; both arrays are moved to the worker (see the file comment). */
  series: TrainSeries;
  /** Overrides of MODEL_DEFAULTS, validated here before the worker starts. Must be empty (or absent) with `initFrom`. */
  config?: Partial<ModelConfig>;
  /**
   * Fine-tune the checkpoint in this directory instead of training from scratch: the worker
   * loads it (its channels must be the series') and runs `fineTune`. Relative paths resolve
   * against this process's cwd. Use another `outDir`, so that scorers reading the parent never
   * see a half-written directory.
   */
  initFrom?: string;
  /** Fine-tuning settings (epochs, lr, refitNormalization, ...), validated here; only with `initFrom`. */
  fineTune?: FineTuneOptions;
  /** Checkpoint directory; relative paths resolve against this process's cwd. */
  outDir: string;
  /** TF.js backend of the worker. Default 'auto'. Same backend and seed → same `version`. */
  backend?: BackendPreference;
  /** Called on this thread after every training step. */
  onProgress?(p: TrainProgress): void;
  /** Aborting terminates the worker and rejects with `TrainingError('TRAINING_CANCELLED')`. */
  signal?: AbortSignal;
  log?: Logger;
  /** Log level inside the worker, which does not share this thread's logger state. */
  workerLogLevel?: LogLevel;
}

/** The job, checked: a config to train from scratch, or a parent checkpoint and fine-tuning options. */
function checkJobOptions(opts: TrainInBackgroundOptions): void {
  if (opts.initFrom === undefined) {
    if (opts.fineTune !== undefined) throw new ConfigError('fineTune', 'fine-tuning needs the parent checkpoint: set initFrom to its directory');
    resolveModelConfig(opts.config ?? {}); // a bad key or value fails here, with its ConfigError, before a thread starts
    return;
  }
  if (opts.config && Object.keys(opts.config).length > 0) {
    throw new ConfigError('model', `a fine-tune takes its architecture and schedule from the checkpoint in initFrom (${opts.initFrom}); pass epochs, lr and the like in fineTune, not config`);
  }
  checkFineTuneOptions(opts.fineTune ?? {});
}

const BOOT = new URL('./workerBoot.mjs', import.meta.url);
const ENTRY = new URL('./trainingWorker.ts', import.meta.url);

/** The array itself when it owns its whole (non-shared) buffer, else an owning copy. */
function movable(a: Float64Array): Float64Array<ArrayBuffer> {
  const owns = a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
  return owns ? (a as Float64Array<ArrayBuffer>) : Float64Array.from(a);
}

function cancelled(signal: AbortSignal, outDir: string): TrainingError {
  const reason = signal.reason instanceof Error ? signal.reason.message : signal.reason === undefined ? '' : String(signal.reason);
  return new TrainingError('TRAINING_CANCELLED', `training of ${outDir} was cancelled${reason ? `: ${reason}` : ''}; the worker was terminated and no checkpoint was completed`, { path: outDir });
}

/** An error from the worker: coded ones keep their class and code, anything else becomes TRAINING_FAILED. */
function workerFailure(e: Parameters<typeof reviveError>[0], outDir: string): Error {
  const err = reviveError(e);
  if (err instanceof DiffwatchError) return err;
  const wrapped = new TrainingError('TRAINING_FAILED', `training of ${outDir} failed in the worker: ${e.name}: ${e.message}`, { path: outDir });
  if (e.stack) wrapped.stack = e.stack;
  return wrapped;
}

/** Train `series` on a worker thread and write the checkpoint to `outDir`. Resolves with its version and manifest. */
export async function trainInBackground(opts: TrainInBackgroundOptions): Promise<TrainingResult> {
  const log = (opts.log ?? rootLogger.namespace('model')).namespace('backgroundTrainer');
  const outDir = path.resolve(opts.outDir);
  checkJobOptions(opts);
  if (opts.signal?.aborted) throw cancelled(opts.signal, outDir);

  const { values, timestamps, channels } = opts.series;
  const moved = { values: movable(values), timestamps: movable(timestamps) };
  const series: TrainSeries = { ...moved, channels: [...channels] };
  const job: TrainingJob = {
    series,
    config: { ...opts.config },
    outDir,
    backend: opts.backend ?? 'auto',
    ...(opts.initFrom !== undefined ? { initFrom: path.resolve(opts.initFrom), fineTune: { ...opts.fineTune } } : {}),
    ...(opts.workerLogLevel ? { logLevel: opts.workerLogLevel } : {}),
  };
  const started = performance.now();

  return new Promise<TrainingResult>((resolve, reject) => {
    const worker = new Worker(BOOT, {
      workerData: { entry: ENTRY.href, data: job },
      transferList: [moved.values.buffer, moved.timestamps.buffer],
      name: 'training',
    });
    const { threadId } = worker;
    log.info('background training started', { outDir, threadId, backend: job.backend, rows: series.timestamps.length, channels: series.channels.length, ...(job.initFrom ? { initFrom: job.initFrom } : {}) });
    let settled = false;
    let lastError: Error | undefined;

    /** Settle once, after the worker is gone, so that a rejection means the thread is stopped. */
    const finish = (outcome: { result: TrainingResult } | { error: Error }) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      void worker.terminate().then(() => ('result' in outcome ? resolve(outcome.result) : reject(outcome.error)));
    };
    const onAbort = () => {
      log.warn('background training cancelled', { outDir, threadId });
      finish({ error: cancelled(opts.signal!, outDir) });
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (msg: TrainingMessage) => {
      if (settled) return;
      if (msg.kind === 'progress') opts.onProgress?.(msg.progress);
      else if (msg.kind === 'done') {
        log.info('background training finished', { outDir, threadId, version: msg.result.version, backend: msg.result.backend, ms: Math.round(performance.now() - started) });
        finish({ result: msg.result });
      } else {
        const error = workerFailure(msg.error, outDir);
        log.error('background training failed', { outDir, threadId, error });
        finish({ error });
      }
    });
    worker.on('error', (err) => {
      lastError = err;
    });
    worker.on('exit', (exitCode) => {
      log.debug('training worker exited', { outDir, threadId, exitCode });
      if (settled) return;
      const why = lastError ? `: ${lastError.message}` : '';
      finish({ error: new WorkerPoolError('WORKER_CRASHED', `training worker for ${outDir} exited with code ${exitCode} before finishing${why}`, { path: outDir, exitCode }) });
    });
  });
}
