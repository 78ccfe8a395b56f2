/**
 * How many threads libtensorflow may use inside one op, when several scoring workers share the
 * process.
 *
 * libtensorflow keeps one intra-op thread pool per process, sized from `TF_NUM_INTRAOP_THREADS`
 * (read once, when the first worker loads it) and otherwise to every core. Every worker's ops are
 * split across that one pool. With two workers on two cores, each op of each worker waits for
 * the pool's threads, which spin while they wait, beside the consumer, Kafka and InfluxDB. With
 * one thread per op, an op runs in its worker's own thread: the workers are the parallelism.
 * Measured with two workers on two cores (docs/benchmarks.md, "One thread per op"): the pool
 * scores 1.2-1.3× as many windows per second, in the service and in `diffwatch score`.
 *
 * The process environment is the only door to that setting (tfjs-node does not expose the
 * session options), and only the main thread can change it: a worker's `process.env` is a copy
 * that native code does not see. A value the user set is kept.
 *
 * Example: nativeThreadsPerOp(2, 2) // sets TF_NUM_INTRAOP_THREADS=1 unless set, returns '1'
 */
import os from 'node:os';

/** Threads per op for `workers` workers on `cores` cores: the cores each worker would have to itself, at least 1. */
export function threadsPerOp(workers: number, cores: number): number {
  return Math.max(1, Math.floor(cores / workers));
}

/** Sets `TF_NUM_INTRAOP_THREADS` for `workers` scoring workers unless it is set; returns the value in force. */
export function nativeThreadsPerOp(workers: number, cores = os.availableParallelism()): string {
  process.env.TF_NUM_INTRAOP_THREADS ??= String(threadsPerOp(workers, cores));
  return process.env.TF_NUM_INTRAOP_THREADS;
}
