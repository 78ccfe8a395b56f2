/**
 * How many threads libtensorflow may use inside one op.
 *
 * libtensorflow keeps one intra-op thread pool per process, sized from `TF_NUM_INTRAOP_THREADS`
 * (read once, when it first loads) and otherwise to every core. An op split across the pool is
 * also computed in part by the thread that issued it, and with a pool of one thread it runs in
 * that thread alone. So each thread that issues ops (a scoring worker, or the one thread that
 * trains) gets its share of the cores, less itself, as the pool: on 2 cores that is 1, where the
 * default pool of 2 puts three busy threads, spinning while they wait, on two cores. Measured on
 * 2 cores (docs/benchmarks.md, "One thread per op"): two scoring workers score 1.2-1.3× as many
 * windows per second, and `diffwatch train` trains 1.5-1.6× as fast.
 *
 * The process environment is the only door to that setting (tfjs-node does not expose the
 * session options), and only the main thread can change it: a worker's `process.env` is a copy
 * that native code does not see. A value the user set is kept.
 *
 * Example: nativeThreadsPerOp(2) // on 2 cores: sets TF_NUM_INTRAOP_THREADS=1 unless set, returns '1'
 */
import os from 'node:os';

/** Pool threads per op for `issuers` threads issuing ops on `cores` cores: each one's share of the cores less itself, at least 1. */
export function threadsPerOp(issuers: number, cores: number): number {
  return Math.max(1, Math.floor(cores / issuers) - 1);
}

/** Sets `TF_NUM_INTRAOP_THREADS` for `issuers` threads that issue ops unless it is set; returns the value in force. */
export function nativeThreadsPerOp(issuers: number, cores = os.availableParallelism()): string {
  process.env.TF_NUM_INTRAOP_THREADS ??= String(threadsPerOp(issuers, cores));
  return process.env.TF_NUM_INTRAOP_THREADS;
}
