/**
 * Bytes of detector state per entity, for each judge: the record value the state topic holds
 * (encoded by `encodeStateValue`, as the state store writes it), the time one encode takes, and
 * the live heap per entity.
 *
 * One entity per shape (1 and 8 channels) is driven through `--windows` windows of a realistic
 * series (a daily cycle under noise, so that no level shift resets the history; heavy-tailed
 * model errors with rare bursts), enough that every history is full (20,000: SPOT's 500 peaks,
 * the 5,000 ranked scores, the 6,400 values). For the heap, `--heap-entities` entities are
 * restored from that state into one detector and judge one window each; the growth of the heap
 * plus the typed arrays' backing stores (`heapUsed + arrayBuffers`, after `global.gc()`) is
 * divided by their number; likewise for the decoded record (what the service holds for an entity
 * it has loaded from the state topic but not judged yet). Each (judge, channels) runs in a
 * process of its own.
 *
 *   node --expose-gc --import tsx bench/stateSize.ts [--windows 20000] [--heap-entities 2000] [--json]
 *
 * (`npx tsx bench/stateSize.ts` prints the record sizes; the heap figures need --expose-gc.)
 */
import { DEFAULTS, type DetectConfig } from '../src/config/schema.ts';
import { createDetector, type EntityDetectorSnapshot } from '../src/detect/detector.ts';
import { decodeStateRecord, encodeStateValue, type EntityState } from '../src/sinks/stateCodec.ts';
import { mulberry32 } from '../src/random.ts';
import type { Window, WindowScore } from '../src/types.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const WINDOWS = arg('windows', 20_000);
const HEAP_ENTITIES = arg('heap-entities', 2_000);
const L = 32;
const STEP = 300_000; // 5-minute points
const meta = { scorer: 'diffusion', modelVersion: 'v1' };

function config(judge: 'threshold' | 'onset'): DetectConfig {
  const d = structuredClone(DEFAULTS.detect) as DetectConfig;
  d.judge = judge;
  return d;
}

/** `count` windows of one entity from `from` on: a daily cycle plus noise, and model errors with rare bursts. */
function windows(entityId: string, C: number, from: number, count: number, seed: number): { ws: Window[]; ss: WindowScore[] } {
  const rng = mulberry32(seed);
  const value = (i: number, ch: number) => 50 + Math.sin((2 * Math.PI * i) / 288 + ch) + 2 * rng();
  const ws: Window[] = [];
  const ss: WindowScore[] = [];
  for (let k = from; k < from + count; k++) {
    const values = new Float32Array(L * C);
    for (let i = 0; i < L; i++) for (let ch = 0; ch < C; ch++) values[i * C + ch] = value(k + i, ch);
    ws.push({ entityId, channels: Array.from({ length: C }, (_, ch) => `c${ch}`), length: L, startTime: k * STEP, endTime: (k + L - 1) * STEP, timestamps: Float64Array.from({ length: L }, (_, i) => (k + i) * STEP), values, hasGap: false, sources: [], releases: [] });
    const burst = rng() < 0.002 ? 20 : 0;
    const pointScores = Float32Array.from({ length: L }, () => -Math.log(1 - rng()) * 0.1 + burst);
    ss.push({ pointScores, channelContributions: new Float32Array(C).fill(1 / C), score: pointScores[L - 1], warmup: false });
  }
  return { ws, ss };
}

/** One entity driven through WINDOWS windows; its snapshot and the encoded record value. */
function longRun(judge: 'threshold' | 'onset', C: number): { snap: EntityDetectorSnapshot; value: Buffer; encodeUs: number } {
  const det = createDetector(config(judge));
  for (let from = 0; from < WINDOWS; from += 1_000) {
    const { ws, ss } = windows('e', C, from, Math.min(1_000, WINDOWS - from), 1 + from);
    det.update(ws, ss, meta);
  }
  const snap = det.snapshot('e')!;
  const encode = () => encodeStateValue({ entityId: 'e', updatedAt: Date.now(), state: snap as unknown as EntityState });
  const value = encode();
  // The cost of a put (JSON, and gzip for a large record): median of 201 encodes.
  const times = Array.from({ length: 201 }, () => {
    const t0 = process.hrtime.bigint();
    encode();
    return Number(process.hrtime.bigint() - t0) / 1e3;
  }).sort((a, b) => a - b);
  return { snap, value, encodeUs: times[100] };
}

/** node's collector, present only under --expose-gc: without it the heap figures are not measured. */
const gcOnce = (globalThis as { gc?: () => void }).gc;

/** Freed typed arrays return their backing stores after the collection: collect, yield, collect. */
async function gc(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gcOnce?.();
    await new Promise((r) => setImmediate(r));
  }
}

const used = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;

/**
 * Heap per live entity: entities restored from `snap` judge one window each; the growth between
 * the first 500 and HEAP_ENTITIES more, so that what was allocated before does not count.
 */
async function heapPerEntity(judge: 'threshold' | 'onset', C: number, snap: EntityDetectorSnapshot): Promise<number | null> {
  if (!gcOnce) return null;
  const det = createDetector(config(judge), { lookup: (id) => ({ ...snap, entityId: id }) });
  const { ws, ss } = windows('x', C, WINDOWS, 1, 99);
  const add = (from: number, to: number) => {
    for (let i = from; i < to; i++) det.update([{ ...ws[0], entityId: `e${i}` }], ss, meta);
    det.takeDirty();
  };
  add(0, 500);
  await gc();
  const before = used();
  add(500, 500 + HEAP_ENTITIES);
  await gc();
  const after = used();
  if (det.snapshot('e0') === undefined) throw new Error('entities were not kept');
  return (after - before) / HEAP_ENTITIES;
}

/** Heap per decoded record, as the service holds one for each entity it has loaded but not judged yet. */
async function heapPerRecord(value: Buffer): Promise<number | null> {
  if (!gcOnce) return null;
  const decode = () => decodeStateRecord(Buffer.from('e'), value, { topic: 'diffwatch.state', partition: 0, offset: '0' });
  const kept = Array.from({ length: 100 }, decode);
  await gc();
  const before = used();
  for (let i = 0; i < HEAP_ENTITIES; i++) kept.push(decode());
  await gc();
  const after = used();
  if (kept.length !== 100 + HEAP_ENTITIES) throw new Error('records were not kept');
  return (after - before) / HEAP_ENTITIES;
}

/** One (judge, channels) measurement, in its own process so that no other run's garbage is counted. */
async function measure(judge: 'threshold' | 'onset', C: number) {
  const { snap, value, encodeUs } = longRun(judge, C);
  const heapBytesPerEntity = await heapPerEntity(judge, C, snap);
  return { judge, channels: C, recordBytes: value.length, encodeUs, heapBytesPerEntity, heapBytesPerDecodedRecord: await heapPerRecord(value) };
}

const only = process.argv.indexOf('--only');
if (only >= 0) {
  const [judge, C] = process.argv[only + 1].split(':');
  console.log(JSON.stringify(await measure(judge as 'threshold' | 'onset', Number(C))));
  process.exit(0);
}

const { execFileSync } = await import('node:child_process');
const rows: { judge: string; channels: number; recordBytes: number; encodeUs: number; heapBytesPerEntity: number | null; heapBytesPerDecodedRecord: number | null }[] = [];
for (const judge of ['threshold', 'onset'] as const) {
  for (const C of [1, 8]) {
    const out = execFileSync(process.execPath, [...process.execArgv, process.argv[1], '--windows', String(WINDOWS), '--heap-entities', String(HEAP_ENTITIES), '--only', `${judge}:${C}`], { encoding: 'utf8' });
    rows.push(JSON.parse(out.trim().split('\n').pop()!));
  }
}
const [load1] = (await import('node:os')).loadavg();
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ windows: WINDOWS, heapEntities: HEAP_ENTITIES, loadAverage1m: load1, rows }, null, 2));
} else {
  console.log(`detector state per entity after ${WINDOWS} windows (load average ${load1.toFixed(2)})`);
  console.log('judge      channels  record bytes  encode µs  heap bytes/entity  heap bytes/decoded record  100,000 entities: topic / heap');
  const mb = (b: number) => `${(b * 100_000 / 1e6).toFixed(0)} MB`;
  for (const r of rows) {
    const heap = r.heapBytesPerEntity === null ? 'n/a (--expose-gc)' : r.heapBytesPerEntity.toFixed(0);
    const decoded = r.heapBytesPerDecodedRecord === null ? 'n/a' : r.heapBytesPerDecodedRecord.toFixed(0);
    console.log(`${r.judge.padEnd(10)} ${String(r.channels).padStart(8)}  ${String(r.recordBytes).padStart(12)}  ${r.encodeUs.toFixed(0).padStart(9)}  ${heap.padStart(17)}  ${decoded.padStart(25)}  ${mb(r.recordBytes)} / ${r.heapBytesPerEntity === null ? 'n/a' : mb(r.heapBytesPerEntity)}`);
  }
}
