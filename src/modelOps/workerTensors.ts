/**
 * The `diffwatch_model_tensors` gauge: TF.js tensors held by the scoring workers, summed. Each
 * worker is its own TF.js engine, so the count is asked of every worker (`memory()`); a steady
 * service holds the weights of its loaded models and nothing more, and a count that climbs is a
 * tensor leak (docs/reliability.md, "Soak"). The same answer feeds
 * `diffwatch_model_worker_memory_bytes`: each worker is also an isolate with its own V8 heap,
 * which the process's heap metrics do not see, and the wasm backend's memory only grows.
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
  let memory = { heap_used: 0, heap_total: 0, wasm: 0 };
  let asking: Promise<void> | undefined;
  const ask = () => {
    // One question in flight at most; a closed pool (POOL_CLOSED) leaves the last count.
    asking ??= pool
      .memory()
      .then((ws) => {
        const sum = (f: (w: WorkerMemory) => number) => ws.reduce((n, w) => n + f(w), 0);
        tensors = sum((w) => w.numTensors);
        memory = { heap_used: sum((w) => w.heapUsedBytes), heap_total: sum((w) => w.heapTotalBytes), wasm: sum((w) => w.wasmBytes) };
      })
      .catch(() => {})
      .finally(() => (asking = undefined));
  };
  ask();
  metrics.sample(METRICS.modelTensors, () => {
    ask();
    return tensors;
  });
  // Read in the same scrape, after the tensor sampler asked: no second question.
  metrics.sample(METRICS.modelWorkerMemory, () => Object.entries(memory).map(([kind, value]) => ({ labels: { kind }, value })));
}
