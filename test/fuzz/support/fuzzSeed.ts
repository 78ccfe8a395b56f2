/**
 * One seed per fuzz run, printed so that a failure can be replayed:
 *   DIFFWATCH_FUZZ_SEED=<seed> npx vitest run test/fuzz/...
 * fast-check also prints `{ seed, path }` of the shrunk counterexample in its failure message.
 */
import fc from 'fast-check';

export const FUZZ_SEED = Number(process.env.DIFFWATCH_FUZZ_SEED ?? (Date.now() % 2_147_483_647));

/** fast-check parameters of every property: the run's seed, a bounded number of runs. */
export function fuzzParams(numRuns: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns, endOnFailure: false };
}

/** Runs a property; on failure the message starts with the seed to replay it with. */
export function assertProperty<T>(prop: fc.IProperty<T> | fc.IAsyncProperty<T>, numRuns: number): void | Promise<void> {
  const params = fuzzParams(numRuns) as fc.Parameters<T>;
  const withSeed = (e: unknown): never => {
    throw new Error(`fuzz failure, replay with DIFFWATCH_FUZZ_SEED=${FUZZ_SEED}\n${(e as Error).message}`, { cause: e });
  };
  try {
    const r = fc.assert(prop as fc.IProperty<T>, params) as unknown;
    if (r instanceof Promise) return r.catch(withSeed);
  } catch (e) {
    withSeed(e);
  }
}
