/**
 * Exponential backoff with full jitter: the delay before retry `attempt` (0-based) is uniform in
 * [0, min(maxMs, baseMs * 2^attempt)). Full jitter spreads the retries of many writers after an
 * outage instead of having them hit the recovering server in lock-step.
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 *
 * @example
 * await sleep(backoffDelay(attempt, { baseMs: 200, maxMs: 10_000 }, Math.random));
 */
export interface BackoffOptions {
  /** ms; the ceiling of the first delay. */
  baseMs: number;
  /** ms; the ceiling never grows past this. */
  maxMs: number;
}

/** A source of uniform numbers in [0, 1), injectable so tests get fixed delays. */
export type Random = () => number;

/** Waits `ms` milliseconds; injectable so tests never wait on real time. */
export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The ceiling of the delay before retry `attempt`, ms. */
export function backoffCeiling(attempt: number, { baseMs, maxMs }: BackoffOptions): number {
  // 2^attempt overflows to Infinity for a long outage; min() keeps it at maxMs.
  return Math.min(maxMs, baseMs * 2 ** attempt);
}

/** A jittered delay before retry `attempt`, ms. */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: Random = Math.random): number {
  return Math.floor(random() * backoffCeiling(attempt, opts));
}
