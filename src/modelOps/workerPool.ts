/**
 * A pool of worker threads that run jobs off the main thread, so that a model call never blocks
 * the event loop (Kafka heartbeats, sink acks and timers keep running while a batch is scored).
 *
 *   main thread                         worker i (workerBoot.mjs → entry)
 *   run(req, transfer) ─▶ queue ─▶ idle worker ─▶ serveRequests(handler) ─▶ reply(res, transfer)
 *
 * Each worker runs one job at a time; jobs wait in one FIFO queue and go to the next idle worker,
 * round-robin among the idle ones, which is least-loaded dispatch for equal jobs. Float32Array
 * buffers named in `transfer` move between threads without a copy.
 *
 * A worker that dies (an uncaught exception, `process.exit`, out of memory) rejects its in-flight
 * job with `WorkerPoolError('WORKER_CRASHED')` and is replaced by a fresh worker. A worker that
 * dies before answering any job is replaced only when the next job needs it, so a worker that
 * cannot start does not respawn in a hot loop. An error the handler throws is not a crash: it
 * rejects that job only, with its code and coordinates preserved.
 *
 * Example:
 *   const pool = createWorkerPool<Req, Res>({ entry: new URL('./scoringWorker.ts', import.meta.url), size: 2 });
 *   const res = await pool.run({ kind: 'score', windows }, [windows.buffer]);
 *   await pool.close();
 */
import os from 'node:os';
import { Worker, parentPort, type ResourceLimits } from 'node:worker_threads';
import { DiffwatchError, ModelError, type ErrorCoordinates } from '../errors.ts';
import { rootLogger, type Logger } from '../log.ts';

type ModelErrorCode = ConstructorParameters<typeof ModelError>[0];

/** Codes of pool failures; they extend ModelError's codes (see the README's code table). */
export type WorkerPoolErrorCode = 'WORKER_CRASHED' | 'POOL_CLOSED';

/** A job the pool could not complete: its worker died, or the pool was closed. */
export class WorkerPoolError extends ModelError {
  constructor(code: WorkerPoolErrorCode, message: string, coords: ErrorCoordinates = {}) {
    super(code, message, coords);
  }
}

/** The wire form of an error thrown in a worker. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  retriable?: boolean;
  coords?: ErrorCoordinates;
  stack?: string;
}

/** Messages between the pool and a worker. */
export interface JobMessage {
  id: number;
  payload: unknown;
}
export type ReplyMessage = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof DiffwatchError) return { name: err.name, message: err.message, code: err.code, retriable: err.retriable, coords: err.coords, stack: err.stack };
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}

/** Rebuild a worker's error on the main thread: a ModelError stays a ModelError, any coded error a DiffwatchError. */
export function reviveError(e: SerializedError): Error {
  let err: Error;
  if (e.name === 'ModelError' && e.code) err = new ModelError(e.code as ModelErrorCode, e.message, e.coords);
  else if (e.code) err = new DiffwatchError(e.code, e.message, { retriable: e.retriable, coords: e.coords });
  else err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}

export interface WorkerPoolOptions {
  /** The module each worker runs; it calls `serveRequests`. A .ts file is loaded through tsx (workerBoot.mjs). */
  entry: URL;
  /** Workers. Default `os.availableParallelism()`. */
  size?: number;
  /** Passed to every worker as `workerData.data`. */
  data?: unknown;
  /** Used in logs and thread names. Default 'pool'. */
  name?: string;
  log?: Logger;
  /** V8 limits of each worker's own heap (node:worker_threads `resourceLimits`). Default: Node's. */
  resourceLimits?: ResourceLimits;
}

export interface WorkerPoolStats {
  size: number;
  /** Workers running now (started, not exited). */
  alive: number;
  busy: number;
  queued: number;
  /** Sum of the `weight` of the queued jobs (e.g. windows, when each job's weight is its batch size). */
  queuedWeight: number;
  /** Workers replaced after a crash. */
  restarts: number;
}

export interface WorkerPool<Req, Res> {
  readonly size: number;
  /**
   * Run one job on the next idle worker. Buffers in `transfer` are moved to the worker (detached here).
   * `weight` (default 1) is what the job counts for in `stats().queuedWeight` while it waits.
   */
  run(req: Req, transfer?: readonly ArrayBuffer[], weight?: number): Promise<Res>;
  /** Run the same job on every worker, e.g. a diagnostic; results in worker order. */
  broadcast(req: Req): Promise<Res[]>;
  stats(): WorkerPoolStats;
  /** Stop taking jobs, let queued and running ones finish, then terminate every worker. */
  close(): Promise<void>;
}

interface Job {
  id: number;
  payload: unknown;
  transfer: readonly ArrayBuffer[];
  /** Only this worker may take the job (broadcast). */
  slot?: number;
  weight: number;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface Slot {
  index: number;
  worker: Worker | null;
  job: Job | null;
  /** Jobs this worker instance answered; 0 means it never got going. */
  answered: number;
  /** The last uncaught error of this worker instance, for the crash message. */
  lastError?: Error;
}

const BOOT = new URL('./workerBoot.mjs', import.meta.url);

export function createWorkerPool<Req, Res>(opts: WorkerPoolOptions): WorkerPool<Req, Res> {
  const size = opts.size ?? os.availableParallelism();
  if (!Number.isInteger(size) || size < 1) throw new ModelError('MODEL_INVALID', `worker pool size must be a positive integer, got ${size}`, { field: 'workers' });
  const name = opts.name ?? 'pool';
  const log = (opts.log ?? rootLogger.namespace('model')).namespace(name);
  const slots: Slot[] = Array.from({ length: size }, (_, index) => ({ index, worker: null, job: null, answered: 0 }));
  const queue: Job[] = [];
  let nextId = 1;
  let nextSlot = 0;
  let restarts = 0;
  let closing = false;
  /** The one shutdown, shared by every close() call. */
  let closed: Promise<void> | null = null;
  let drained: (() => void) | null = null;

  function spawn(slot: Slot): void {
    const worker = new Worker(BOOT, { workerData: { entry: opts.entry.href, data: opts.data }, name: `${name}-${slot.index}`, resourceLimits: opts.resourceLimits });
    slot.worker = worker;
    slot.answered = 0;
    slot.lastError = undefined;
    worker.unref(); // an idle pool must not keep the process alive; a busy worker is ref'd in dispatch
    worker.on('message', (msg: ReplyMessage) => onReply(slot, worker, msg));
    worker.on('error', (err) => {
      if (slot.worker === worker) slot.lastError = err;
    });
    worker.on('exit', (code) => onExit(slot, worker, code));
  }

  function onReply(slot: Slot, worker: Worker, msg: ReplyMessage): void {
    const job = slot.job;
    if (slot.worker !== worker || !job || job.id !== msg.id) {
      log.warn('reply for no job in flight', { worker: slot.index, id: msg.id });
      return;
    }
    slot.job = null;
    slot.answered++;
    worker.unref();
    if (msg.ok) job.resolve(msg.value);
    else job.reject(reviveError(msg.error));
    pump();
  }

  function onExit(slot: Slot, worker: Worker, exitCode: number): void {
    if (slot.worker !== worker) return;
    slot.worker = null;
    const job = slot.job;
    slot.job = null;
    if (closing && !job) return pump();
    const why = slot.lastError ? `: ${slot.lastError.message}` : '';
    log.warn('worker exited', { worker: slot.index, exitCode, inFlight: job !== null, error: slot.lastError });
    job?.reject(new WorkerPoolError('WORKER_CRASHED', `${name} worker ${slot.index} exited with code ${exitCode}${why}`, { worker: slot.index, exitCode }));
    restarts++;
    // A worker that never answered is restarted only when a job needs it (see pump), not in a loop.
    if (slot.answered > 0 && !closing) spawn(slot);
    pump();
  }

  /** Hand queued jobs to idle workers. */
  function pump(): void {
    for (let n = 0; n < size && queue.length > 0; n++) {
      const slot = slots[(nextSlot + n) % size];
      if (slot.job) continue;
      const at = queue.findIndex((j) => j.slot === undefined || j.slot === slot.index);
      if (at < 0) continue;
      const [job] = queue.splice(at, 1);
      if (!slot.worker) spawn(slot);
      slot.job = job;
      slot.worker!.ref();
      slot.worker!.postMessage({ id: job.id, payload: job.payload } satisfies JobMessage, job.transfer as ArrayBuffer[]);
      nextSlot = (slot.index + 1) % size;
    }
    if (drained && queue.length === 0 && slots.every((s) => !s.job)) drained();
  }

  function enqueue(payload: unknown, transfer: readonly ArrayBuffer[], slot?: number, weight = 1): Promise<unknown> {
    if (closing) return Promise.reject(new WorkerPoolError('POOL_CLOSED', `${name} is closed`, {}));
    return new Promise((resolve, reject) => {
      queue.push({ id: nextId++, payload, transfer, slot, weight, resolve, reject });
      pump();
    });
  }

  slots.forEach(spawn);

  return {
    size,
    run: (req, transfer = [], weight = 1) => enqueue(req, transfer, undefined, weight) as Promise<Res>,
    broadcast: (req) => Promise.all(slots.map((s) => enqueue(req, [], s.index) as Promise<Res>)),
    stats: () => ({
      size,
      alive: slots.filter((s) => s.worker).length,
      busy: slots.filter((s) => s.job).length,
      queued: queue.length,
      queuedWeight: queue.reduce((sum, j) => sum + j.weight, 0),
      restarts,
    }),
    close() {
      closed ??= (async () => {
        closing = true;
        await new Promise<void>((resolve) => {
          drained = resolve;
          pump();
        });
        await Promise.all(slots.map((s) => s.worker?.terminate()));
        log.debug('worker pool closed', { size, restarts });
      })();
      return closed;
    },
  };
}

/** What a handler returns: the value, and the buffers to move (not copy) back to the main thread. */
export interface Reply<Res> {
  value: Res;
  transfer?: ArrayBuffer[];
}

/**
 * The worker side: answer each job with `handler(payload)`. Jobs arrive one at a time per worker.
 * A thrown error rejects that job only; it goes back with its code and coordinates.
 */
export function serveRequests<Req, Res>(handler: (req: Req) => Reply<Res> | Promise<Reply<Res>>): void {
  if (!parentPort) throw new ModelError('MODEL_INVALID', 'serveRequests must run in a worker thread', {});
  const port = parentPort;
  port.on('message', async ({ id, payload }: JobMessage) => {
    try {
      const { value, transfer = [] } = await handler(payload as Req);
      port.postMessage({ id, ok: true, value } satisfies ReplyMessage, transfer);
    } catch (err) {
      port.postMessage({ id, ok: false, error: serializeError(err) } satisfies ReplyMessage);
    }
  });
}
