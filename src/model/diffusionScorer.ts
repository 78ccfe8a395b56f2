/**
 * The diffusion model as a `Scorer`: windows of many entities are packed into one `[B, L, C]`
 * batch per model call (micro-batching across entities), split across a pool of worker threads,
 * and the results are mapped back to one `WindowScore` per window, in input order.
 *
 *   score(windows) ─ pack ─▶ chunks [b, L, C] ─▶ workers: scoreWindows ─▶ unpack ─▶ WindowScore[]
 *
 * One shared model for now; every worker loads it from `modelDir` at start-up, so a missing or
 * invalid checkpoint stops start-up rather than the first batch. The main thread only copies
 * numbers: the model never runs on it, so Kafka heartbeats and sink acks keep flowing.
 *
 * Example:
 *   const scorer = await createDiffusionScorer({ modelDir: 'models/m1', workers: 2, backend: 'wasm' });
 *   const scores = await scorer.score(windows); // scores[i] belongs to windows[i]
 *   await scorer.close();
 */
import { ModelError } from '../errors.ts';
import { rootLogger, type Logger, type LogLevel } from '../log.ts';
import type { Scorer, Window, WindowScore } from '../types.ts';
import type { BackendName, BackendPreference } from './backend.ts';
import type { ConvImpl } from './denoiser.ts';
import type { ModelInfo, ScoredBatch, ScoringReply, ScoringRequest, ScoringWorkerData } from './scoringWorker.ts';
import { createWorkerPool, type WorkerPool } from './workerPool.ts';

export interface DiffusionScorerOptions {
  /** Checkpoint directory, as written by `saveCheckpoint`. */
  modelDir: string;
  /** Worker threads. Default `os.availableParallelism()`. */
  workers?: number;
  /** TF.js backend of every worker. Default 'auto'. */
  backend?: BackendPreference;
  /** Convolution form in the workers. Default 'auto': tf.conv1d on wasm and cpu, where it was measured faster, unfold elsewhere. */
  conv?: 'auto' | ConvImpl;
  /** Windows per worker call at most; a larger batch is split. Default 256. */
  maxBatch?: number;
  log?: Logger;
  /** Log level inside the workers, which do not share the main thread's logger state. */
  workerLogLevel?: LogLevel;
}

export interface WorkerMemory {
  numTensors: number;
  numBytes: number;
  models: number;
}

export interface DiffusionScorer extends Scorer {
  readonly name: 'diffusion';
  /** The checkpoint's content hash. */
  readonly version: string;
  /** The model's channels, in its input order. */
  readonly channels: readonly string[];
  /** The model's window length L, in points. */
  readonly windowLength: number;
  /** The backend the workers run on. */
  readonly backend: BackendName;
  /** The convolution form the workers run. */
  readonly conv: ConvImpl;
  /** `tf.memory()` of each worker, for leak checks. */
  memory(): Promise<WorkerMemory[]>;
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
  const data: ScoringWorkerData = { backend: opts.backend ?? 'auto', conv: opts.conv ?? 'auto', ...(opts.workerLogLevel ? { logLevel: opts.workerLogLevel } : {}) };
  const pool: WorkerPool<ScoringRequest, ScoringReply> = createWorkerPool({ entry: new URL('./scoringWorker.ts', import.meta.url), size: opts.workers, data, name: 'scoring', log });
  let info: ModelInfo;
  try {
    const infos = (await pool.broadcast({ kind: 'load', modelDir: opts.modelDir })) as ModelInfo[];
    info = infos[0];
    const other = infos.find((i) => i.version !== info.version);
    if (other) throw new ModelError('MODEL_MISMATCH', `checkpoint ${opts.modelDir} changed while the workers loaded it (versions ${info.version} and ${other.version})`, { path: opts.modelDir });
  } catch (err) {
    await pool.close();
    throw err;
  }
  const { version, channels, windowLength: L } = info;
  const C = channels.length;
  const span = L * C;
  const mapOf = channelMap(channels);
  log.info('diffusion scorer ready', { modelDir: opts.modelDir, version, channels, windowLength: L, workers: pool.size, backend: info.backend, conv: info.conv, maxBatch });

  /** Copy windows [from, from + b) into one `[b, L, C]` batch in the model's channel order. */
  function pack(windows: readonly Window[], maps: Int32Array[], from: number, b: number): Float32Array<ArrayBuffer> {
    const out = new Float32Array(b * span); // [b, L, C]
    for (let w = 0; w < b; w++) {
      const { values } = windows[from + w];
      const map = maps[from + w];
      const base = w * span;
      for (let i = 0; i < L; i++) for (let c = 0; c < C; c++) out[base + i * C + c] = values[i * C + map[c]];
    }
    return out;
  }

  function unpack(r: ScoredBatch, w: number, map: Int32Array): WindowScore {
    const channelContributions = new Float32Array(C); // in the window's channel order
    for (let c = 0; c < C; c++) channelContributions[map[c]] = r.channelContributions[w * C + c];
    return { pointScores: r.pointScores.slice(w * L, (w + 1) * L), channelContributions, score: r.windowScores[w], warmup: false };
  }

  return {
    name: 'diffusion',
    version,
    channels,
    windowLength: L,
    backend: info.backend,
    conv: info.conv,
    async score(windows) {
      const maps = windows.map((w) => {
        if (w.length !== L || w.values.length !== L * w.channels.length) {
          throw new ModelError('MODEL_MISMATCH', `entity ${w.entityId}: window of ${w.length} points, the model takes ${L}`, { entityId: w.entityId, expected: L, actual: w.length });
        }
        return mapOf(w);
      });
      let from = 0;
      const calls = chunkSizes(windows.length, pool.size, maxBatch).map((b) => {
        const start = from;
        from += b;
        const batch = pack(windows, maps, start, b);
        const done = pool.run({ kind: 'score', modelDir: opts.modelDir, version, windows: batch, batch: b }, [batch.buffer]) as Promise<ScoredBatch>;
        return done.then((r) => Array.from({ length: b }, (_, w) => unpack(r, w, maps[start + w])));
      });
      return (await Promise.all(calls)).flat();
    },
    memory: () => pool.broadcast({ kind: 'memory' }) as Promise<WorkerMemory[]>,
    close: () => pool.close(),
  };
}
