/** The tensor-count gauge sums what every scoring worker answers and serves the latest answer at each scrape. */
import { describe, expect, it } from 'vitest';
import { METRICS, Metrics } from '../../../src/metrics.ts';
import type { WorkerMemory } from '../../../src/modelOps/diffusionScorer.ts';
import { sampleWorkerTensors } from '../../../src/modelOps/workerTensors.ts';

const worker = (numTensors: number): WorkerMemory => ({ numTensors, numBytes: numTensors * 4, models: 1, heapUsedBytes: numTensors * 1000, heapTotalBytes: numTensors * 2000, wasmBytes: 65536 });
const settled = () => new Promise((res) => setImmediate(res));

describe('sampleWorkerTensors', () => {
  it('sums the tensors of every worker and follows their answers from scrape to scrape', async () => {
    const answers = [[worker(10), worker(12)], [worker(10), worker(15)]];
    let asked = 0;
    const metrics = new Metrics();
    sampleWorkerTensors(metrics, { memory: async () => answers[Math.min(asked++, answers.length - 1)] });
    await settled();
    expect(metrics.total(METRICS.modelTensors)).toBe(22);
    await settled();
    expect(metrics.total(METRICS.modelTensors)).toBe(25);
    const text = await metrics.text();
    expect(text).toMatch(/^diffwatch_model_tensors 25$/m);
    expect(text).toMatch(/^diffwatch_model_worker_memory_bytes\{kind="heap_used"\} 25000$/m);
    expect(text).toMatch(/^diffwatch_model_worker_memory_bytes\{kind="heap_total"\} 50000$/m);
    expect(text).toMatch(/^diffwatch_model_worker_memory_bytes\{kind="wasm"\} 131072$/m);
  });

  it('keeps the last count when the pool is closed, and asks one question at a time', async () => {
    let asked = 0;
    let closed = false;
    const metrics = new Metrics();
    sampleWorkerTensors(metrics, {
      memory: async () => {
        asked++;
        if (closed) throw new Error('POOL_CLOSED');
        return [worker(7)];
      },
    });
    await settled();
    closed = true;
    // Three scrapes before the workers answer: one question.
    metrics.total(METRICS.modelTensors);
    metrics.total(METRICS.modelTensors);
    metrics.total(METRICS.modelTensors);
    await settled();
    expect(asked).toBe(2);
    expect(metrics.total(METRICS.modelTensors)).toBe(7);
  });
});
