/**
 * The scoring worker alone under the soak's load shape: one wasm worker with the models a soak
 * run trained (one per entity), scored in batches of one window per entity, with the process's
 * RSS, the worker's committed V8 heap and tensors, and the rate so far printed every 4,000 windows. It isolates the worker (TF.js, its
 * wasm memory) from the rest of the service when the soak's RSS rises (docs/reliability.md, "Soak").
 *
 *   npx tsx bench/soakWorker.ts --models out/soak/<run>/models [--windows 40000]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createDiffusionScorer } from '../src/modelOps/diffusionScorer.ts';
import type { Window } from '../src/types.ts';

const { values: a } = parseArgs({ options: { models: { type: 'string' }, windows: { type: 'string', default: '40000' } } });
if (!a.models) throw new Error('--models <dir>: the models directory of a soak run (out/soak/<run>/models)');
const base = resolve(a.models);
const total = Number(a.windows);
const pool = await createDiffusionScorer({ modelDir: null, workers: 1, backend: 'wasm' });
const models = [];
for (const key of readdirSync(base).sort()) models.push(await pool.load(join(base, key, readFileSync(join(base, key, 'CURRENT'), 'utf8').trim())));
const E = models.length;
const L = models[0].windowLength;
const C = models[0].channels.length;
const t0 = Date.now();
const rssMiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
for (let i = 0; i < total; i += E) {
  // One window per entity, like the soak's signal: a cycle plus noise, 2 readings/s.
  const windows: Window[] = models.map((m, e) => {
    const timestamps = Float64Array.from({ length: L }, (_, k) => t0 + (i / E + k) * 500);
    const values = Float32Array.from({ length: L * C }, (_, k) => 50 + 10 * e + 8 * Math.sin((i / E + k / C) / 50 + (k % C)) + Math.random());
    return { entityId: `soak-${e}`, channels: m.channels, length: L, startTime: timestamps[0], endTime: timestamps[L - 1], timestamps, values, hasGap: false, sources: [] } as unknown as Window;
  });
  await pool.scoreRouted(windows, models.map((m) => ({ modelDir: m.modelDir, version: m.version })));
  if (i % 4_000 === 0) {
    const mem = await pool.memory();
    const heap = mem.map((x) => (x.heapTotalBytes / 2 ** 20).toFixed(1)).join(',');
    process.stdout.write(`${i}\trss ${rssMiB().toFixed(1)} MiB\tworker heap ${heap} MiB\tworker tensors ${mem.map((x) => x.numTensors).join(',')}\t${((i / (Date.now() - t0)) * 1000).toFixed(0)} windows/s\n`);
  }
}
await pool.close();
process.exit(0);
