/**
 * One chunk of a key's collected rows, as a value of the row topic (rowLog.ts), and the newest
 * run of chunks joined back into rows a RowCollector restores.
 *
 *   value  u32 header bytes | header JSON {v, chunk, first, rows, perChunk, channels, newest}
 *          | float64 timestamps [rows] | float64 values [rows, C] (little-endian)
 *
 * Float64, so a restored series is the collected one bit for bit; `newest` is each entity's
 * newest timestamp taken, so that windows re-read after a restart add no point twice.
 *
 * Example:
 *   const value = encodeChunk({ chunk: 3, first: 768, perChunk: 256, channels, newest }, timestamps, values);
 *   const saved = joinChunks([value, ...]);   // SavedRows, or undefined
 */
/** Largest chunk value; the topic takes 1 MiB. */
const CHUNK_MAX_BYTES = 512 * 1024;
const ROWS_PER_CHUNK = 256;

export interface SavedRows {
  channels: string[];
  values: Float64Array;
  timestamps: Float64Array;
  newest: Record<string, number>;
  appended: number;
}

interface ChunkHeader {
  v: 1;
  chunk: number;
  first: number;
  rows: number;
  perChunk: number;
  channels: string[];
  newest: Record<string, number>;
}

export const rowsPerChunk = (channels: number) => Math.max(1, Math.min(ROWS_PER_CHUNK, Math.floor(CHUNK_MAX_BYTES / ((channels + 1) * 8))));

export function encodeChunk(h: Omit<ChunkHeader, 'v' | 'rows'>, timestamps: Float64Array, values: Float64Array): Buffer {
  const head = Buffer.from(JSON.stringify({ v: 1, ...h, rows: timestamps.length }), 'utf8');
  const out = Buffer.alloc(4 + head.length + 8 * (timestamps.length + values.length));
  out.writeUInt32BE(head.length, 0);
  head.copy(out, 4);
  let at = 4 + head.length;
  for (const x of timestamps) at = out.writeDoubleLE(x, at);
  for (const x of values) at = out.writeDoubleLE(x, at);
  return out;
}

export function decodeChunk(b: Buffer): { header: ChunkHeader; timestamps: Float64Array; values: Float64Array } {
  const n = b.readUInt32BE(0);
  const header = JSON.parse(b.toString('utf8', 4, 4 + n)) as ChunkHeader;
  const C = header.channels.length;
  if (header.v !== 1 || b.length !== 4 + n + 8 * header.rows * (C + 1)) throw new Error(`row chunk of ${b.length} bytes does not hold ${header.rows} rows of ${C} channels`);
  const read = (from: number, count: number) => Float64Array.from({ length: count }, (_, i) => b.readDoubleLE(from + 8 * i));
  return { header, timestamps: read(4 + n, header.rows), values: read(4 + n + 8 * header.rows, header.rows * C) };
}

/** The newest run of consecutive chunks, joined: what a collector restores. */
export function joinChunks(chunks: Buffer[]): SavedRows | undefined {
  const decoded = chunks.map(decodeChunk).sort((a, b) => b.header.chunk - a.header.chunk);
  const run: typeof decoded = [];
  for (const d of decoded) {
    const prev = run[run.length - 1];
    if (prev && (d.header.chunk !== prev.header.chunk - 1 || d.header.perChunk !== prev.header.perChunk || d.header.channels.join('\u0000') !== prev.header.channels.join('\u0000'))) break;
    run.push(d);
  }
  if (run.length === 0) return undefined;
  run.reverse();
  const C = run[0].header.channels.length;
  const N = run.reduce((n, d) => n + d.header.rows, 0);
  const out: SavedRows = { channels: run[0].header.channels, values: new Float64Array(N * C), timestamps: new Float64Array(N), newest: {}, appended: 0 };
  let at = 0;
  for (const d of run) {
    out.timestamps.set(d.timestamps, at);
    out.values.set(d.values, at * C);
    at += d.header.rows;
    for (const [id, t] of Object.entries(d.header.newest)) out.newest[id] = Math.max(t, out.newest[id] ?? -Infinity);
    out.appended = d.header.first + d.header.rows;
  }
  return out;
}
