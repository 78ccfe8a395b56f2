/**
 * One model version as one Kafka record of the models topic (kafkaModelStore.ts): the files of
 * its version folder in a small tar-like framing, the version and a content hash in headers.
 *
 *   value    "DWM1" | u16 files | per file: u16 name bytes | name (UTF-8) | u32 size | bytes
 *            (big-endian; files sorted by name, so the same folder always frames to the same bytes)
 *   headers  diffwatch-version  the model version (a checkpoint's manifest `version`, a scaler's hash)
 *            diffwatch-sha256   SHA-256 (hex) of the value: checked before anything is unpacked
 *            diffwatch-writer   the instance that wrote it, so an instance skips its own echoes
 *
 * Why a binary framing and not JSON + base64: weights are float32 bytes that base64 would grow
 * by a third, and a checkpoint (manifest.json, model.json, weights.bin) is three flat files, so
 * names and sizes are all the structure it needs.
 *
 * Example:
 *   const value = await packVersion(liveDir);                      // Buffer
 *   const headers = recordHeaders(version, value, writerId);
 *   const rec = readModelRecord(key, value, headers, coords);      // throws ModelStoreError
 *   await unpackVersion(rec.value, stagingDir);
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DiffwatchError } from '../errors.ts';

export type ModelStoreErrorCode = 'MODEL_HASH_MISMATCH' | 'MODEL_RECORD_INVALID' | 'MODEL_TOO_LARGE' | 'MODEL_STORE_UNAVAILABLE';

/**
 * A model record that cannot be trusted or written. Record errors carry the record's
 * coordinates (topic, partition, offset, key); such a record is never unpacked or scored with.
 */
export class ModelStoreError extends DiffwatchError {
  declare readonly code: ModelStoreErrorCode;
  constructor(code: ModelStoreErrorCode, message: string, opts: { retriable?: boolean; coords?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, opts);
  }
}

export const HEADERS = { version: 'diffwatch-version', sha256: 'diffwatch-sha256', writer: 'diffwatch-writer' } as const;
const MAGIC = Buffer.from('DWM1', 'ascii');
/** File names a version folder may hold: flat, no path separators, never `.` or `..`. */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Frame every file of a version folder (sorted by name). */
export async function packVersion(dir: string): Promise<Buffer> {
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name).sort();
  const parts: Buffer[] = [MAGIC, u16(names.length)];
  for (const name of names) {
    if (!FILE_NAME.test(name)) throw new ModelStoreError('MODEL_RECORD_INVALID', `${join(dir, name)}: a model file name must match ${FILE_NAME}`, { coords: { path: join(dir, name) } });
    const body = await readFile(join(dir, name));
    const n = Buffer.from(name, 'utf8');
    parts.push(u16(n.length), n, u32(body.length), body);
  }
  return Buffer.concat(parts);
}

/** The files of a framed value, by name; throws MODEL_RECORD_INVALID when the framing is broken. */
export function unframe(value: Buffer, coords: Record<string, unknown> = {}): Map<string, Buffer> {
  const bad = (why: string) => new ModelStoreError('MODEL_RECORD_INVALID', `model record ${why}`, { coords });
  if (value.length < 6 || !value.subarray(0, 4).equals(MAGIC)) throw bad(`does not start with ${MAGIC.toString()}`);
  const files = new Map<string, Buffer>();
  const count = value.readUInt16BE(4);
  let at = 6;
  for (let i = 0; i < count; i++) {
    if (at + 2 > value.length) throw bad(`ends inside the name of file ${i}`);
    const nameEnd = at + 2 + value.readUInt16BE(at);
    if (nameEnd + 4 > value.length) throw bad(`ends inside the name of file ${i}`);
    const name = value.toString('utf8', at + 2, nameEnd);
    const end = nameEnd + 4 + value.readUInt32BE(nameEnd);
    if (!FILE_NAME.test(name) || files.has(name)) throw bad(`names file ${JSON.stringify(name)}, which is not a plain file name or comes twice`);
    if (end > value.length) throw bad(`ends inside ${name}`);
    files.set(name, value.subarray(nameEnd + 4, end));
    at = end;
  }
  if (at !== value.length) throw bad(`has ${value.length - at} bytes after its last file`);
  return files;
}

/** Write the files of a framed value into `dir` (created). */
export async function unpackVersion(files: Map<string, Buffer>, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  // The manifest last, as saveCheckpoint does: a folder with a manifest has its weights.
  const order = [...files.keys()].sort((a, b) => Number(a === 'manifest.json') - Number(b === 'manifest.json'));
  for (const name of order) await writeFile(join(dir, name), files.get(name)!);
}

export function recordHeaders(version: string, value: Buffer, writer: string): Record<string, string> {
  return { [HEADERS.version]: version, [HEADERS.sha256]: sha256Hex(value), [HEADERS.writer]: writer };
}

export interface ModelRecord {
  key: string;
  version: string;
  writer: string;
  files: Map<string, Buffer>;
}

const headerText = (h: Record<string, unknown> | undefined, name: string): string | undefined => {
  const v = h?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined || one === null ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
};

/**
 * Check and unframe one record. Throws MODEL_HASH_MISMATCH when the value's SHA-256 is not the
 * header's (changed in transit or on disk, or written by something else), MODEL_RECORD_INVALID
 * when a header is missing or the framing is broken, or when the version header disagrees with
 * the manifest inside.
 */
export function readModelRecord(key: string, value: Buffer, headers: Record<string, unknown> | undefined, coords: Record<string, unknown>): ModelRecord {
  const at = { ...coords, key };
  const version = headerText(headers, HEADERS.version);
  const sha = headerText(headers, HEADERS.sha256);
  if (!version || !sha) throw new ModelStoreError('MODEL_RECORD_INVALID', `model record of ${key} lacks the ${HEADERS.version} or ${HEADERS.sha256} header`, { coords: at });
  const actual = sha256Hex(value);
  if (actual !== sha) {
    throw new ModelStoreError('MODEL_HASH_MISMATCH', `model record of ${key} (version ${version}) has SHA-256 ${actual}, its header says ${sha}; the record is not used`, { coords: { ...at, expected: sha, actual } });
  }
  const files = unframe(value, at);
  const manifest = files.get('manifest.json');
  if (manifest) {
    let inside: unknown;
    try {
      inside = (JSON.parse(manifest.toString('utf8')) as { version?: unknown }).version;
    } catch {
      throw new ModelStoreError('MODEL_RECORD_INVALID', `model record of ${key}: manifest.json is not JSON`, { coords: at });
    }
    if (inside !== version) throw new ModelStoreError('MODEL_HASH_MISMATCH', `model record of ${key}: header version ${version}, manifest version ${JSON.stringify(inside)}; the record is not used`, { coords: { ...at, expected: version, actual: inside } });
  }
  return { key, version, writer: headerText(headers, HEADERS.writer) ?? '', files };
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
