/**
 * The `diffwatch_model_tensors` gauge: TF.js tensors held by the scoring workers, summed. Each
 * worker is its own TF.js engine, so the count is asked of every worker (`memory()`); a steady
 * service holds the weights of its loaded models and nothing more, and a count that climbs is a
 * tensor leak (docs/reliability.md, "Soak").
 *
 * A scrape reads samplers synchronously while the workers answer asynchronously, so a scrape
 * serves the count of the latest answer and asks again: the value is at most one scrape old.
 *
 * @example
 * sampleWorkerTensors(metrics, pool); // after createDiffusionScorer
 */
import { METRICS, type Metrics } from '../metrics.ts';
import type { WorkerMemory } from './diffusionScorer.ts';

export function sampleWorkerTensors(metrics: Metrics, pool: { memory(): Promise<WorkerMemory[]> }): void {
  let tensors = 0;
  let asking: Promise<void> | undefined;
  const ask = () => {
    // One question in flight at most; a closed pool (POOL_CLOSED) leaves the last count.
    asking ??= pool
      .memory()
      .then((ws) => void (tensors = ws.reduce((n, w) => n + w.numTensors, 0)))
      .catch(() => {})
      .finally(() => (asking = undefined));
  };
  ask();
  metrics.sample(METRICS.modelTensors, () => {
    ask();
    return tensors;
  });
}
