/**
 * The entry of a training worker (started by backgroundTrainer.ts through workerBoot.mjs): one
 * worker per training job. It reads its job from `workerData.data`, initialises its own TF.js
 * backend, runs `train` (or, with `initFrom`, loads that checkpoint and runs `fineTune` on it),
 * writes the checkpoint to the requested directory and exits.
 *
 *   main thread                              this worker
 *   new Worker(job, transfer series) ──────▶ initBackend → train | fineTune ──▶ saveCheckpoint(outDir)
 *   onProgress ◀──── { kind: 'progress' }    (every step)
 *   resolve    ◀──── { kind: 'done' }        version, manifest, dir, backend
 *   reject     ◀──── { kind: 'failed' }      the error with its code and coordinates
 *
 * The series arrives as transferred Float64Arrays (moved, not copied). Training never runs on
 * the main thread, so a long fit cannot starve Kafka heartbeats there.
 */
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { parentPort, workerData } from 'node:worker_threads';
import { ModelError } from '../errors.ts';
import { rootLogger, setLogLevel, type LogLevel } from '../log.ts';
import { initBackend, type BackendName, type BackendPreference } from '../model/backend.ts';
import { loadCheckpoint, saveCheckpoint, type ModelManifest, type TrainedModel } from '../model/checkpoint.ts';
import { fineTune, type FineTuneOptions } from '../model/fineTune.ts';
import type { ModelConfig } from '../model/modelConfig.ts';
import { train, type TrainHooks, type TrainProgress, type TrainSeries } from '../model/trainer.ts';
import { serializeError, type SerializedError } from './workerPool.ts';

/** `workerData.data` of a training worker: the whole job. */
export interface TrainingJob {
  series: TrainSeries;
  config: Partial<ModelConfig>;
  /** Absolute directory the checkpoint is written to (created if missing). */
  outDir: string;
  /** Absolute checkpoint directory to fine-tune from; `config` is then unused (the parent's is taken). */
  initFrom?: string;
  /** Fine-tuning settings; only with `initFrom`. */
  fineTune?: FineTuneOptions;
  backend: BackendPreference;
  /** Log level of the worker (each thread has its own logger state). */
  logLevel?: LogLevel;
}

/** What a finished job hands back. */
export interface TrainingResult {
  /** The checkpoint's content hash (equal to `manifest.version`). */
  version: string;
  manifest: ModelManifest;
  /** Where the checkpoint was written. */
  dir: string;
  /** The backend the model was trained on; training is deterministic per backend only. */
  backend: BackendName;
}

/** Messages from a training worker to the main thread. */
export type TrainingMessage =
  | { kind: 'progress'; progress: TrainProgress }
  | { kind: 'done'; result: TrainingResult }
  | { kind: 'failed'; error: SerializedError };

if (!parentPort) throw new ModelError('MODEL_INVALID', 'trainingWorker.ts must run in a worker thread; use trainInBackground', {});
const port = parentPort;
const job = workerData.data as TrainingJob;
if (job.logLevel) setLogLevel(job.logLevel);
const log = rootLogger.namespace('model').namespace('trainingWorker');
// Same reason as in scoringWorker.ts: never one XNNPACK thread per core on shared cores.
setThreadsCount(1);

const post = (msg: TrainingMessage) => port.postMessage(msg);

async function fineTuneFrom(dir: string, hooks: TrainHooks): Promise<TrainedModel> {
  const base = await loadCheckpoint(dir, { channels: job.series.channels });
  try {
    return await fineTune(base, job.series, job.fineTune ?? {}, hooks);
  } finally {
    base.dispose();
  }
}

async function run(): Promise<TrainingResult> {
  const { name: backend } = await initBackend(job.backend, log);
  const hooks: TrainHooks = { onProgress: (progress) => post({ kind: 'progress', progress }) };
  const model = job.initFrom === undefined ? await train(job.series, job.config, hooks) : await fineTuneFrom(job.initFrom, hooks);
  try {
    const version = await saveCheckpoint(job.outDir, model);
    return { version, manifest: { ...model.manifest, version }, dir: job.outDir, backend };
  } finally {
    model.dispose();
  }
}

run().then(
  (result) => post({ kind: 'done', result }),
  (err: unknown) => post({ kind: 'failed', error: serializeError(err) }),
);
