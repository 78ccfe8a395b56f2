/**
 * The diffusion model as a `Scorer`: windows of many entities are packed into one `[B, L, C]`
 * batch per model call (micro-batching across entities), split across a pool of worker threads,
 * and the results are mapped back to one `WindowScore` per window, in input order.
 *
 *   score(windows) ─ pack ─▶ chunks [b, L, C] ─▶ workers: scoreWindows ─▶ unpack ─▶ WindowScore[]
 *
 * Every worker loads the default model from `modelDir` at start-up, so a missing or invalid
 * checkpoint stops start-up rather than the first batch. More models (per entity, per group,
 * fine-tuned versions) are `load`ed into every worker while the stream runs and scored with
 * `scoreRouted`, which packs each model's windows into its own batches; `unload` frees a
 * version that was swapped out. The main thread only copies numbers: the model never runs on
 * it, so Kafka heartbeats and sink acks keep flowing.
 *
 * Example:
 *   const scorer = await createDiffusionScorer({ modelDir: 'models/m1', workers: 2, backend: 'wasm' });
 *   const scores = await scorer.score(windows); // scores[i] belongs to windows[i]
 *   await scorer.close();
 *
 * `scorePacked` is the same path for windows that are already one `[B, L, C]` batch in the
 * model's channel order (`diffwatch score`): it skips the per-window packing and can return the
 * reconstruction, and the workers run the very same `scoreWindows` call as for the stream.
 */
import os from 'node:os';
import { ModelError } from '../errors.ts';
import { rootLogger, type Logger, type LogLevel } from '../log.ts';
import type { Scorer, Window, WindowScore } from '../types.ts';
import type { BackendName, BackendPreference } from '../model/backend.ts';
import type { ScoreQuantiles } from '../model/checkpoint.ts';
import type { ConvImpl } from '../model/denoiser.ts';
import { nativeBindingThreadSafe } from '../model/nativeBuild.ts';
import { nativeThreadsPerOp } from '../model/nativeThreads.ts';
import type { ModelInfo, ScoredBatch, ScoringReply, ScoringRequest, ScoringWorkerData, WorkerMemory } from './scoringWorker.ts';
import { createWorkerPool, type WorkerPool, type WorkerPoolStats } from './workerPool.ts';

export type { ScoredBatch, WorkerMemory } from './scoringWorker.ts';

export interface DiffusionScorerOptions {
  /** The default model's checkpoint directory, as written by `saveCheckpoint`. Null: every window is routed (`scoreRouted`). */
  modelDir: string | null;
  /** Worker threads. Default `os.availableParallelism()`. */
  workers?: number;
  /** TF.js backend of every worker. Default 'auto'. */
  backend?: BackendPreference;
  /** Convolution form in the workers. Default 'auto': tf.conv1d on tensorflow, wasm and cpu, where it was measured faster, unfold elsewhere. */
  conv?: 'auto' | ConvImpl;
  /** Windows per worker call at most; a larger batch is split. Default 256. */
  maxBatch?: number;
  log?: Logger;
  /** Log level inside the workers, which do not share the main thread's logger state. */
  workerLogLevel?: LogLevel;
}

/**
 * The young generation of each scoring worker's V8 heap, MiB (two 8 MiB semi-spaces). Node's
 * default (48) lets V8 double the semi-spaces on its own partway through a run (after about
 * 7,000 windows in the soak): a one-time step of 16 MiB of RSS per worker, after warm-up, which
 * reads as a leak in a soak. Scoring allocates small, short-lived arrays (the tensors live in the backend's memory),
 * and at this size a worker scores as fast as at the default (docs/reliability.md, "Soak").
 */
const SCORING_YOUNG_GENERATION_MB = 24;

/**
 * The model a window is scored with. `affine` maps the window's raw values into the units of
 * the model's own normalization, `x' = gain[c]·x + offset[c]` per model channel: with
 * gain = s_model/s_entity and offset = c_model - c_entity·gain, the network sees
 * `(x - c_entity)/s_entity`, so one network serves entities scaled by their own statistics.
 */
export interface ScoringRoute {
  modelDir: string;
  version: string;
  affine?: { gain: Float32Array; offset: Float32Array };
}

export interface LoadedModel {
  modelDir: string;
  version: string;
  channels: readonly string[];
  windowLength: number;
  /** The model's own robust scaler (`manifest.normalization`). */
  normalization: { center: number[]; scale: number[] };
  /** An imputation model's conditioning channels: their training levels, null for the channels it generates. */
  conditioning?: (number[] | null)[];
  validationScores?: ScoreQuantiles;
}

export interface PackedScoreOptions {
  /** Point timestamps `[B, L]`, epoch ms (models with calendar features need them). */
  timestamps?: Float64Array;
  /** Also return the reconstruction `[B, L, C]`, raw units. Default false. */
  reconstruction?: boolean;
}

export interface DiffusionScorer extends Scorer {
  readonly name: 'diffusion';
  /** The default checkpoint's content hash ('' without a default model). */
  readonly version: string;
  /** The default model's channels, in its input order (empty without a default model). */
  readonly channels: readonly string[];
  /** The default model's window length L, in points (0 without a default model). */
  readonly windowLength: number;
  /** Load a checkpoint into every worker; resolves once all of them can score with it. */
  load(modelDir: string): Promise<LoadedModel>;
  /** Free a loaded checkpoint in every worker (a version that was swapped out). */
  unload(modelDir: string): Promise<void>;
  /**
   * Score B raw windows `[B, L, C]`, channels in the default model's order, with the default
   * model: split across the workers like `score`, answered as one batch in input order.
   */
  scorePacked(windows: Float32Array, batch: number, opts?: PackedScoreOptions): Promise<ScoredBatch>;
  /** Score each window with its route's model; `routes[i]` belongs to `windows[i]`. */
  scoreRouted(windows: readonly Window[], routes: readonly ScoringRoute[]): Promise<WindowScore[]>;
  /** The backend the workers run on. */
  readonly backend: BackendName;
  /** The convolution form the workers run. */
  readonly conv: ConvImpl;
  /** `tf.memory()` of each worker, for leak checks. */
  memory(): Promise<WorkerMemory[]>;
  /** The worker pool's figures; `queuedWeight` is windows waiting for a worker. Optional: a fake scorer may lack it. */
  stats?(): WorkerPoolStats;
  close(): Promise<void>;
}

/**
 * For each model channel, the index of that channel in the window (its channels may come in
 * another order); cached per channel list, which the stream shares between an entity's windows.
 */
function channelMap(model: readonly string[]): (w: Window) => Int32Array {
  const identity = Int32Array.from(model, (_, i) => i);
  const cache = new WeakMap<readonly string[], Int32Array>();
  return (w) => {
    let map = cache.get(w.channels);
    if (map) return map;
    const at = new Map(w.channels.map((c, i) => [c, i]));
    if (w.channels.length !== model.length || model.some((c) => !at.has(c))) {
      throw new ModelError('MODEL_MISMATCH', `entity ${w.entityId} has channels [${w.channels.join(', ')}], the model was trained on [${model.join(', ')}]`, { entityId: w.entityId, expected: [...model], actual: [...w.channels] });
    }
    map = model.every((c, i) => w.channels[i] === c) ? identity : Int32Array.from(model, (c) => at.get(c)!);
    cache.set(w.channels, map);
    return map;
  };
}

/** Sizes of the chunks a batch of `total` windows is split into: at most `maxBatch` each, and one per worker when there are enough windows. */
export function chunkSizes(total: number, workers: number, maxBatch: number): number[] {
  if (total === 0) return [];
  const count = Math.max(Math.ceil(total / maxBatch), Math.min(workers, total));
  const base = Math.floor(total / count);
  return Array.from({ length: count }, (_, i) => base + (i < total % count ? 1 : 0));
}

export async function createDiffusionScorer(opts: DiffusionScorerOptions): Promise<DiffusionScorer> {
  const maxBatch = opts.maxBatch ?? 256;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new ModelError('MODEL_INVALID', `maxBatch must be a positive integer, got ${maxBatch}`, { field: 'maxBatch' });
  const log = (opts.log ?? rootLogger.namespace('model')).namespace('diffusion');
  // libtensorflow (the 'tensorflow' backend) reads its log level from the process environment
  // when a worker loads it, and only the main thread can change that environment: a worker's
  // process.env is a copy that native add-ons do not see, so the same line in initBackend does not
  // reach them. Without it every worker prints plain-text INFO lines into the JSON log.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
  const workers = opts.workers ?? os.availableParallelism();
  const backendPref = opts.backend ?? 'auto';
  // The same environment sizes the one pool every worker's ops share (nativeThreads.ts).
  const threadsPerOp = backendPref === 'auto' || backendPref === 'tensorflow' ? nativeThreadsPerOp(workers) : undefined;
  const data: ScoringWorkerData = { backend: backendPref, conv: opts.conv ?? 'auto', ...(opts.workerLogLevel ? { logLevel: opts.workerLogLevel } : {}) };
  const pool: WorkerPool<ScoringRequest, ScoringReply> = createWorkerPool({
    entry: new URL('./scoringWorker.ts', import.meta.url),
    size: workers,
    data,
    name: 'scoring',
    log,
    resourceLimits: { maxYoungGenerationSizeMb: SCORING_YOUNG_GENERATION_MB },
  });

  /** Models every worker holds, by directory, with what packing needs. */
  const loaded = new Map<string, LoadedModel & { mapOf: (w: Window) => Int32Array }>();
  let backend: BackendName | undefined;
  let conv: ConvImpl | undefined;

  async function load(modelDir: string): Promise<LoadedModel> {
    const infos = (await pool.broadcast({ kind: 'load', modelDir })) as ModelInfo[];
    const info = infos[0];
    const other = infos.find((i) => i.version !== info.version);
    if (other) throw new ModelError('MODEL_MISMATCH', `checkpoint ${modelDir} changed while the workers loaded it (versions ${info.version} and ${other.version})`, { path: modelDir });
    backend = info.backend;
    conv = info.conv;
    const model: LoadedModel = {
      modelDir,
      version: info.version,
      channels: info.channels,
      windowLength: info.windowLength,
      normalization: info.normalization,
      ...(info.conditioning ? { conditioning: info.conditioning } : {}),
      ...(info.validationScores ? { validationScores: info.validationScores } : {}),
    };
    loaded.set(modelDir, { ...model, mapOf: channelMap(info.channels) });
    return model;
  }

  let initial: LoadedModel | undefined;
  try {
    if (opts.modelDir !== null) initial = await load(opts.modelDir);
    else await pool.broadcast({ kind: 'memory' }); // start every worker (and its backend) now, not on the first batch
  } catch (err) {
    await pool.close();
    throw err;
  }
  // Scoring workers and a background training worker each run libtensorflow in their own thread.
  if (backend === 'tensorflow' && nativeBindingThreadSafe() === false) {
    log.warn('the native backend\'s binding lacks the thread-safety patch: worker threads that start their first ops at once (scoring workers, background training) can crash the process; rebuild it with `npm run native:setup`, or set scorer.diffusion.backend to wasm', { workers: pool.size, docs: 'docs/native-backend.md#worker-threads-a-lock-the-binding-lacks' });
  }
  log.info('diffusion scorer ready', { modelDir: opts.modelDir, version: initial?.version, channels: initial?.channels, windowLength: initial?.windowLength, workers: pool.size, backend, conv, maxBatch, ...(backend === 'tensorflow' ? { threadsPerOp } : {}) });

  /** Copy windows `idx` into one `[b, L, C]` batch in the model's channel order, through each route's affine map. */
  function pack(windows: readonly Window[], routes: readonly ScoringRoute[], maps: Int32Array[], idx: number[], L: number, C: number): Float32Array<ArrayBuffer> {
    const span = L * C;
    const out = new Float32Array(idx.length * span); // [b, L, C]
    idx.forEach((k, w) => {
      const { values } = windows[k];
      const map = maps[k];
      const affine = routes[k].affine;
      const base = w * span;
      for (let i = 0; i < L; i++) {
        for (let c = 0; c < C; c++) {
          const x = values[i * C + map[c]];
          out[base + i * C + c] = affine ? affine.gain[c] * x + affine.offset[c] : x;
        }
      }
    });
    return out;
  }

  function unpack(r: ScoredBatch, w: number, L: number, C: number, map: Int32Array, version: string): WindowScore {
    const channelContributions = new Float32Array(C); // in the window's channel order
    for (let c = 0; c < C; c++) channelContributions[map[c]] = r.channelContributions[w * C + c];
    return { pointScores: r.pointScores.slice(w * L, (w + 1) * L), channelContributions, score: r.windowScores[w], warmup: false, modelVersion: version };
  }

  async function scoreRouted(windows: readonly Window[], routes: readonly ScoringRoute[]): Promise<WindowScore[]> {
    if (routes.length !== windows.length) throw new ModelError('MODEL_INVALID', `scoreRouted: ${windows.length} windows but ${routes.length} routes`, {});
    const maps: Int32Array[] = new Array(windows.length);
    const byModel = new Map<string, number[]>();
    windows.forEach((w, k) => {
      const route = routes[k];
      const m = loaded.get(route.modelDir);
      if (!m || m.version !== route.version) throw new ModelError('MODEL_MISMATCH', `entity ${w.entityId}: model ${route.modelDir} (version ${route.version}) is not loaded${m ? `; version ${m.version} is` : ''}`, { entityId: w.entityId, path: route.modelDir });
      if (w.length !== m.windowLength || w.values.length !== m.windowLength * w.channels.length) {
        throw new ModelError('MODEL_MISMATCH', `entity ${w.entityId}: window of ${w.length} points, the model takes ${m.windowLength}`, { entityId: w.entityId, expected: m.windowLength, actual: w.length });
      }
      maps[k] = m.mapOf(w);
      const idx = byModel.get(route.modelDir);
      if (idx) idx.push(k);
      else byModel.set(route.modelDir, [k]);
    });
    const out: WindowScore[] = new Array(windows.length);
    const calls: Promise<void>[] = [];
    for (const [modelDir, idx] of byModel) {
      const m = loaded.get(modelDir)!;
      const L = m.windowLength;
      const C = m.channels.length;
      let from = 0;
      for (const b of chunkSizes(idx.length, pool.size, maxBatch)) {
        const part = idx.slice(from, from + b);
        from += b;
        const batch = pack(windows, routes, maps, part, L, C);
        const timestamps = new Float64Array(b * L); // [b, L]
        part.forEach((k, w) => timestamps.set(windows[k].timestamps, w * L));
        const done = pool.run({ kind: 'score', modelDir, version: m.version, windows: batch, batch: b, timestamps }, [batch.buffer, timestamps.buffer], b) as Promise<ScoredBatch>;
        calls.push(done.then((r) => part.forEach((k, w) => (out[k] = unpack(r, w, L, C, maps[k], m.version)))));
      }
    }
    await Promise.all(calls);
    return out;
  }

  async function scorePacked(windows: Float32Array, B: number, opts: PackedScoreOptions = {}): Promise<ScoredBatch> {
    if (!initial) throw new ModelError('MODEL_INVALID', 'this scorer has no default model: route every window with scoreRouted', {});
    const { modelDir, version, windowLength: L } = initial;
    const C = initial.channels.length;
    const span = L * C;
    if (!Number.isInteger(B) || B < 0 || windows.length !== B * span || (opts.timestamps && opts.timestamps.length !== B * L)) {
      throw new ModelError('MODEL_MISMATCH', `scorePacked: ${B} windows of [${L}, ${C}] need ${B * span} values and ${B * L} timestamps, got ${windows.length} and ${opts.timestamps?.length ?? 'none'}`, { batchSize: B, expected: B * span, actual: windows.length });
    }
    const withRecon = opts.reconstruction === true;
    const out: ScoredBatch = { pointScores: new Float32Array(B * L), channelContributions: new Float32Array(B * C), windowScores: new Float32Array(B), ...(withRecon ? { reconstruction: new Float32Array(B * span) } : {}) };
    const calls: Promise<void>[] = [];
    let from = 0;
    for (const b of chunkSizes(B, pool.size, maxBatch)) {
      const at = from;
      from += b;
      calls.push(scoreChunk(at, b));
    }
    async function scoreChunk(at: number, b: number): Promise<void> {
      const part = windows.slice(at * span, (at + b) * span); // [b, L, C], a buffer of its own to transfer
      const timestamps = opts.timestamps?.slice(at * L, (at + b) * L); // [b, L]
      const req: ScoringRequest = { kind: 'score', modelDir, version, windows: part, batch: b, ...(timestamps ? { timestamps } : {}), ...(withRecon ? { reconstruction: true } : {}) };
      const r = (await pool.run(req, timestamps ? [part.buffer, timestamps.buffer] : [part.buffer], b)) as ScoredBatch;
      out.pointScores.set(r.pointScores, at * L);
      out.channelContributions.set(r.channelContributions, at * C);
      out.windowScores.set(r.windowScores, at);
      if (r.reconstruction) out.reconstruction?.set(r.reconstruction, at * span);
    }
    await Promise.all(calls);
    return out;
  }

  const defaultRoute = initial && { modelDir: initial.modelDir, version: initial.version };
  return {
    name: 'diffusion',
    version: initial?.version ?? '',
    channels: initial?.channels ?? [],
    windowLength: initial?.windowLength ?? 0,
    get backend() {
      return backend!;
    },
    get conv() {
      return conv!;
    },
    score(windows) {
      if (!defaultRoute) return Promise.reject(new ModelError('MODEL_INVALID', 'this scorer has no default model: route every window with scoreRouted', {}));
      return scoreRouted(windows, windows.map(() => defaultRoute));
    },
    scorePacked,
    scoreRouted,
    load,
    async unload(modelDir) {
      loaded.delete(modelDir);
      await pool.broadcast({ kind: 'unload', modelDir });
    },
    memory: () => pool.broadcast({ kind: 'memory' }) as Promise<WorkerMemory[]>,
    stats: () => pool.stats(),
    close: () => pool.close(),
  };
}
