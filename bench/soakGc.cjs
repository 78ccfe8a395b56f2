// Preloaded into the soak's service (`node --expose-gc --require bench/soakGc.cjs`): SIGUSR2 runs
// a full garbage collection, so that the soak can read the live heap after it
// (`diffwatch_heap_live_bytes`) instead of a point on the collector's sawtooth. A measuring
// instrument of the soak only; the service itself never forces a collection.
'use strict';
process.on('SIGUSR2', () => globalThis.gc?.());
