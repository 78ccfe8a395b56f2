/**
 * The scorer's own rate, outside the pipeline: the windows the service scores, in micro-batches
 * of the service's size, one call at a time as the pipeline makes them, through the same scorer
 * (the diffusion model in a worker pool of the service's size; the baseline in this thread).
 * The service's windows/s divided by this is the share of the model's rate the pipeline keeps.
 */
import type { Scorer, Window } from '../../src/types.ts';
import type { LoadGenerator } from './loadGenerator.ts';

/** `perEntity` consecutive windows of length L for every entity of the generator, newest last. */
export function generatorWindows(gen: LoadGenerator, windowLength: number, perEntity: number): Window[] {
  const { channels: C } = gen.shape;
  const out: Window[] = [];
  for (let e = 0; e < gen.shape.entities; e++) {
    const rows = perEntity + windowLength - 1;
    const timestamps = Float64Array.from({ length: rows }, (_, i) => i * 1000);
    const values = new Float32Array(rows * C);
    for (let i = 0; i < rows; i++) {
      const r = gen.reading(e, timestamps[i]);
      gen.channelNames.forEach((name, c) => (values[i * C + c] = r.values[name]));
    }
    for (let s = 0; s < perEntity; s++) {
      out.push({
        entityId: gen.entityIds[e],
        channels: gen.channelNames,
        length: windowLength,
        startTime: timestamps[s],
        endTime: timestamps[s + windowLength - 1],
        timestamps: timestamps.subarray(s, s + windowLength),
        values: values.subarray(s * C, (s + windowLength) * C),
        hasGap: false,
        sources: [],
        releases: [],
      });
    }
  }
  // Interleave entities the way a micro-batch gathers them from many partitions.
  return out.map((w, i) => ({ w, k: (i % perEntity) * gen.shape.entities + Math.floor(i / perEntity) })).sort((a, b) => a.k - b.k).map((x) => x.w);
}

/** Windows/s of `scorer` over `windows` in batches of `batch`, repeated until `minMs` have passed (after one warm-up batch). */
export async function scorerRate(scorer: Scorer, windows: readonly Window[], batch: number, minMs = 3_000): Promise<number> {
  await scorer.score(windows.slice(0, batch));
  let scored = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    for (let i = 0; i < windows.length && (scored === 0 || performance.now() - t0 < minMs); i += batch) {
      const chunk = windows.slice(i, i + batch);
      await scorer.score(chunk);
      scored += chunk.length;
    }
  }
  return (scored * 1000) / (performance.now() - t0);
}
