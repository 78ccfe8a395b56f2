/**
 * The entry of a scoring worker (run by workerPool.ts through workerBoot.mjs): it initialises
 * its own TF.js backend, loads checkpoints by directory on demand, keeps them by version, and
 * answers `scoreWindows` calls on packed `[B, L, C]` batches.
 *
 * Every worker is a separate TF.js engine with its own copy of the weights (~120 kB for the
 * default net), so N workers score N batches at once with no shared state.
 *
 * Requests (ScoringRequest) and replies (ScoringReply):
 *   load    { modelDir, version? }       → ModelInfo (loads and caches the checkpoint)
 *   score   { modelDir, version, windows [B, L, C], batch, normalization?, reconstruction? }
 *                                        → ScoredBatch, buffers transferred back; with
 *                                          `normalization`, the entity's own scaler is used;
 *                                          with `reconstruction`, the model's reconstruction too
 *   unload  { modelDir }                 → { models } left; frees that checkpoint's weights
 *   memory  {}                           → tf.memory(), V8 heap and wasm memory of this worker, for leak checks
 *
 * A pool sends a request to ONE worker; `load` and `unload` go to every worker (broadcast),
 * since each holds its own copy.
 */
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { getHeapStatistics } from 'node:v8';
import { workerData } from 'node:worker_threads';
import { ModelError } from '../errors.ts';
import { rootLogger, setLogLevel, type LogLevel } from '../log.ts';
import { initBackend, type BackendName, type BackendPreference } from '../model/backend.ts';
import { loadCheckpoint, type ModelManifest, type TrainedModel } from '../model/checkpoint.ts';
import type { ConvImpl } from '../model/denoiser.ts';
import { scoreWindows, type ScalerStats } from '../model/windowScorer.ts';
import { serveRequests, type Reply } from './workerPool.ts';

/** `workerData.data` of a scoring worker. */
export interface ScoringWorkerData {
  backend: BackendPreference;
  /**
   * Convolution form of the loaded denoisers. 'auto': tf.conv1d on tensorflow, wasm and cpu, where
   * it was measured faster (docs/benchmarks.md), unfold on webgpu, which was not measured.
   */
  conv?: 'auto' | ConvImpl;
  /** Log level of the worker (each thread has its own logger state). Default: DIFFWATCH_LOG_LEVEL or 'info'. */
  logLevel?: LogLevel;
}

export interface ModelInfo {
  version: string;
  channels: string[];
  windowLength: number;
  backend: BackendName;
  conv: ConvImpl;
  /** The model's own robust scaler, per channel. */
  normalization: { center: number[]; scale: number[] };
  /** An imputation model's conditioning channels: their training levels, null for the channels it generates. */
  conditioning?: (number[] | null)[];
  validationScores: ModelManifest['validationScores'];
}

/** What the model says about a batch of B windows of L points and C channels. */
export interface ScoredBatch {
  /** `[B, L]` */
  pointScores: Float32Array;
  /** `[B, C]` */
  channelContributions: Float32Array;
  /** `[B]` */
  windowScores: Float32Array;
  /** `[B, L, C]`, raw units, the model's channel order; only when the request asked for it. */
  reconstruction?: Float32Array;
}

export type ScoringRequest =
  | { kind: 'load'; modelDir: string; version?: string }
  | {
      kind: 'score';
      modelDir: string;
      version: string;
      windows: Float32Array;
      batch: number;
      /** Point timestamps `[B, L]`, epoch ms, for models that take calendar features. */
      timestamps?: Float64Array;
      /** The entity's own scaler, in place of the model's (one shared network, per-entity statistics). */
      normalization?: ScalerStats;
      /** Also return the reconstruction (`diffwatch score --reconstruction`). */
      reconstruction?: boolean;
    }
  | { kind: 'unload'; modelDir: string }
  | { kind: 'memory' };

/** Reply to `unload`: the checkpoints this worker still holds. */
export interface UnloadReply {
  models: number;
}

/** The `memory` reply: what this worker holds. */
export interface WorkerMemory {
  numTensors: number;
  numBytes: number;
  models: number;
  /** The worker's own V8 heap, used and committed. */
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** The wasm backend's linear memory (0 on other backends). */
  wasmBytes: number;
}

export type ScoringReply = ModelInfo | ScoredBatch | UnloadReply | WorkerMemory;

const log = rootLogger.namespace('model').namespace('worker');
const { backend: pref, logLevel, conv = 'auto' } = (workerData.data ?? { backend: 'auto' }) as ScoringWorkerData;
if (logLevel) setLogLevel(logLevel);
// In Node the wasm backend runs its single-threaded SIMD binary (tfjs-backend-wasm's
// WASM_HAS_MULTITHREAD_SUPPORT is false there); the count is set anyway so that a threaded
// build could never start one XNNPACK thread per core in each of N workers on shared cores.
setThreadsCount(1);
const backendReady = initBackend(pref, log);
// Handled here so that an unavailable backend is not an unhandled rejection (which would end the
// worker); every request awaits it and gets the typed BACKEND_UNAVAILABLE error instead.
backendReady.catch(() => {});

/**
 * Backends where tf.conv1d scored faster than the unfold form and matched it: wasm and cpu
 * (bench/model.ts, the conv1d equality tests), tensorflow (1.5x to 1.6x with one or two workers on
 * the default model, docs/benchmarks.md "Offline scoring"; nativeBackend.test.ts checks it against wasm).
 */
const MEASURED_CONV1D = new Set(['tensorflow', 'wasm', 'cpu']);

/**
 * Chunks of at most this many windows run a grouped net as one block-diagonal net
 * (denoiser.ts, `groupForm`), per backend. On tensorflow each kernel call costs tens of
 * microseconds, so a small chunk of an 8-group net is nearly all call overhead: one window took
 * 92 ms as separate nets and 25 ms as one, 64 windows 166 and 135 ms; from about 85 windows the
 * separate nets are faster (96 windows: 189 against 205 ms), since the block form does G times
 * the multiply-adds. The limit sits near that crossover, so that a chunk one window over it
 * costs about what it would have cost in the block form. On wasm the separate nets are faster
 * from 4 windows up. The scores are the same to the bit (docs/benchmarks.md, "The
 * groups as one net for small calls"; `npm run bench:score-call`).
 */
const BLOCK_DIAGONAL_MAX_BATCH: Readonly<Partial<Record<string, number>>> = { tensorflow: 80 };

/** Checkpoints by directory, each the version last loaded from there. */
const models = new Map<string, TrainedModel>();

async function modelFor(modelDir: string, version?: string): Promise<TrainedModel> {
  await backendReady;
  const cached = models.get(modelDir);
  if (cached && (version === undefined || cached.manifest.version === version)) return cached;
  const model = await loadCheckpoint(modelDir);
  model.denoiser.convImpl = conv === 'auto' ? (MEASURED_CONV1D.has(tf.getBackend()) ? 'conv1d' : 'unfold') : conv;
  if (version !== undefined && model.manifest.version !== version) {
    model.dispose();
    throw new ModelError('MODEL_MISMATCH', `checkpoint ${modelDir} changed: expected version ${version}, found ${model.manifest.version}; restart the scorer to pick up the new model`, { path: modelDir, expected: version, actual: model.manifest.version });
  }
  if (BLOCK_DIAGONAL_MAX_BATCH[tf.getBackend()] !== undefined) model.denoiser.fuseGroups();
  cached?.dispose();
  models.set(modelDir, model);
  return model;
}

/** A Float32Array that owns its whole buffer, so that transferring it moves nothing else. */
const owned = (a: ArrayLike<number>): Float32Array =>
  a instanceof Float32Array && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : Float32Array.from(a);

async function score(req: Extract<ScoringRequest, { kind: 'score' }>): Promise<Reply<ScoredBatch>> {
  const model = await modelFor(req.modelDir, req.version);
  const { windowLength: len, channels } = model.manifest;
  if (req.windows.length !== req.batch * len * channels.length) {
    throw new ModelError('MODEL_MISMATCH', `a batch of ${req.batch} windows of [${len}, ${channels.length}] needs ${req.batch * len * channels.length} values, got ${req.windows.length}`, { batchSize: req.batch });
  }
  model.denoiser.groupForm = req.batch <= (BLOCK_DIAGONAL_MAX_BATCH[tf.getBackend()] ?? 0) ? 'blockDiagonal' : 'separate';
  const r = scoreWindows(model, req.windows, req.batch, { ...(req.normalization ? { normalization: req.normalization } : {}), ...(req.timestamps ? { timestamps: req.timestamps } : {}), reconstruction: req.reconstruction === true });
  const value: ScoredBatch = {
    pointScores: owned(r.pointScores),
    channelContributions: owned(r.channelContributions),
    windowScores: owned(r.windowScores),
    ...(r.reconstruction ? { reconstruction: owned(r.reconstruction) } : {}),
  };
  const transfer = [value.pointScores, value.channelContributions, value.windowScores, ...(value.reconstruction ? [value.reconstruction] : [])];
  return { value, transfer: transfer.map((a) => a.buffer as ArrayBuffer) };
}

serveRequests<ScoringRequest, ScoringReply>(async (req) => {
  switch (req.kind) {
    case 'load': {
      const { manifest, denoiser } = await modelFor(req.modelDir, req.version);
      const { center, scale } = manifest.normalization;
      const info: ModelInfo = { version: manifest.version, channels: manifest.channels, windowLength: manifest.windowLength, backend: tf.getBackend() as BackendName, conv: denoiser.convImpl, normalization: { center, scale }, ...(manifest.imputation ? { conditioning: manifest.imputation.levels } : {}), validationScores: manifest.validationScores };
      return { value: info };
    }
    case 'score':
      return score(req);
    case 'unload': {
      // No await between the lookup and the delete: no score of this worker can hold the model then.
      const model = models.get(req.modelDir);
      if (model) {
        models.delete(req.modelDir);
        model.dispose();
        log.debug('model unloaded', { modelDir: req.modelDir, version: model.manifest.version, models: models.size });
      }
      return { value: { models: models.size } };
    }
    case 'memory': {
      await backendReady;
      const { numTensors, numBytes } = tf.memory();
      return { value: { numTensors, numBytes, models: models.size, ...isolateMemory() } };
    }
  }
});

/**
 * This worker's own V8 heap (a worker is an isolate of its own: the process's heap metrics do
 * not include it) and the wasm backend's linear memory, which grows and never shrinks.
 */
function isolateMemory(): Pick<WorkerMemory, 'heapUsedBytes' | 'heapTotalBytes' | 'wasmBytes'> {
  const heap = getHeapStatistics();
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return { heapUsedBytes: heap.used_heap_size, heapTotalBytes: heap.total_heap_size, wasmBytes: wasm?.HEAPU8?.buffer.byteLength ?? 0 };
}
