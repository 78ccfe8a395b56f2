/** One model version as one record: the framing round-trips, and a record that does not match its headers is a typed error. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HEADERS, ModelStoreError, packVersion, readModelRecord, recordHeaders, unframe, unpackVersion } from '../../../src/modelOps/modelRecord.ts';

function versionDir(manifestVersion = 'abcdef0123456789'): string {
  const dir = mkdtempSync(join(tmpdir(), 'diffwatch-rec-'));
  writeFileSync(join(dir, 'weights.bin'), Buffer.from(Float32Array.of(1, 2, 3).buffer));
  writeFileSync(join(dir, 'model.json'), '{"format":"tfjs-weights"}');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: manifestVersion }));
  return dir;
}

const errorOf = (f: () => unknown): ModelStoreError => {
  try {
    f();
  } catch (e) {
    return e as ModelStoreError;
  }
  throw new Error('did not throw');
};

describe('model records', () => {
  it('frame a version folder and unpack it to the same files', async () => {
    const dir = versionDir();
    const value = await packVersion(dir);
    expect(value.subarray(0, 4).toString()).toBe('DWM1');
    expect(await packVersion(dir)).toEqual(value); // deterministic
    const rec = readModelRecord('entity:a', value, recordHeaders('abcdef0123456789', value, 'w1'), { topic: 't' });
    expect(rec).toMatchObject({ key: 'entity:a', version: 'abcdef0123456789', writer: 'w1' });
    const out = join(mkdtempSync(join(tmpdir(), 'diffwatch-rec-')), 'v');
    await unpackVersion(rec.files, out);
    for (const f of ['weights.bin', 'model.json', 'manifest.json']) expect(readFileSync(join(out, f))).toEqual(readFileSync(join(dir, f)));
  });

  it('reject a value whose SHA-256 is not the header’s (MODEL_HASH_MISMATCH), with the record’s coordinates', async () => {
    const value = await packVersion(versionDir());
    const headers = recordHeaders('abcdef0123456789', value, 'w1');
    value[value.length - 20] ^= 1;
    const e = errorOf(() => readModelRecord('entity:a', value, headers, { topic: 'models', partition: 0, offset: '7' }));
    expect(e).toBeInstanceOf(ModelStoreError);
    expect(e).toMatchObject({ code: 'MODEL_HASH_MISMATCH', retriable: false, coords: { topic: 'models', partition: 0, offset: '7', key: 'entity:a' } });
  });

  it('reject a version header that is not the manifest’s, missing headers and broken framing', async () => {
    const value = await packVersion(versionDir());
    expect(errorOf(() => readModelRecord('k:a', value, recordHeaders('ffffffffffffffff', value, 'w'), {})).code).toBe('MODEL_HASH_MISMATCH');
    expect(errorOf(() => readModelRecord('k:a', value, { [HEADERS.version]: 'x' }, {})).code).toBe('MODEL_RECORD_INVALID');
    expect(errorOf(() => unframe(value.subarray(0, value.length - 1))).code).toBe('MODEL_RECORD_INVALID');
    expect(errorOf(() => unframe(Buffer.from('nope'))).code).toBe('MODEL_RECORD_INVALID');
  });
});
