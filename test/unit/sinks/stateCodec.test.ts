import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeStateRecord, encodeStateValue, GZIP_FROM_BYTES, STATE_RECORD_MAX_BYTES, type EntityState } from '../../../src/sinks/stateCodec.ts';

const src = { topic: 'diffwatch.state', partition: 0, offset: '3' };
const state = (payload: string): EntityState => ({ modelVersion: 'v1', lastWindowEnd: 60_000, payload });
/** Base64 of pseudo-random bytes, as the detector's histories are. */
const history = (bytes: number) => Buffer.from(Uint8Array.from({ length: bytes }, (_, i) => (i * 2_654_435_761) >>> 24)).toString('base64');

describe('stateCodec: compression of large records', () => {
  it('writes a small state as plain JSON and a large one gzip-compressed; reads both', () => {
    const small = encodeStateValue({ entityId: 'pump-7', updatedAt: 1, state: state('x') });
    expect(small.length).toBeLessThan(GZIP_FROM_BYTES);
    expect(small[0]).toBe('{'.charCodeAt(0));
    const big = state(history(12_000));
    const value = encodeStateValue({ entityId: 'pump-7', updatedAt: 2, state: big });
    expect([value[0], value[1]]).toEqual([0x1f, 0x8b]);
    // Gzip takes back most of what base64 adds (4/3).
    expect(value.length).toBeLessThan(12_000 * 1.1);
    expect(JSON.parse(gunzipSync(value).toString())).toEqual({ v: 1, entityId: 'pump-7', updatedAt: 2, state: big });
    expect(decodeStateRecord(Buffer.from('pump-7'), value, src)).toEqual({ kind: 'put', record: { entityId: 'pump-7', updatedAt: 2, state: big } });
  });

  it('reads a large record written as plain JSON (the format before compression)', () => {
    const big = state(history(12_000));
    const value = Buffer.from(JSON.stringify({ v: 1, entityId: 'pump-7', updatedAt: 2, state: big }));
    expect(decodeStateRecord(Buffer.from('pump-7'), value, src)).toEqual({ kind: 'put', record: { entityId: 'pump-7', updatedAt: 2, state: big } });
  });

  it('rejects a truncated or non-JSON compressed record as STATE_RECORD_INVALID', () => {
    const value = encodeStateValue({ entityId: 'pump-7', updatedAt: 2, state: state(history(12_000)) });
    for (const bad of [value.subarray(0, 100), gzipSync(Buffer.from('not json'))]) {
      expect(() => decodeStateRecord(Buffer.from('pump-7'), bad, src)).toThrow(expect.objectContaining({ code: 'STATE_RECORD_INVALID', coords: expect.objectContaining({ field: 'value', entityId: 'pump-7', offset: '3' }) }));
    }
  });

  it('refuses a compressed record that inflates past STATE_RECORD_MAX_BYTES, without inflating it all', () => {
    // 64 MiB of spaces: a 64 KiB message.
    const bomb = gzipSync(Buffer.alloc(4 * STATE_RECORD_MAX_BYTES, 0x20));
    expect(bomb.length).toBeLessThan(100_000);
    expect(() => decodeStateRecord(Buffer.from('pump-7'), bomb, src)).toThrow(expect.objectContaining({ code: 'STATE_RECORD_INVALID', message: expect.stringContaining(`more than ${STATE_RECORD_MAX_BYTES} bytes`) }));
  });
});
