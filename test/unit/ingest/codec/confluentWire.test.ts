import { describe, expect, it } from 'vitest';
import { frameConfluent, unframeConfluent } from '../../../../src/ingest/codec/confluentWire.ts';

describe('confluent wire format', () => {
  it('writes magic 0 and a big-endian int32 id before the payload', () => {
    const framed = frameConfluent(0x01020304, Buffer.from([0xaa, 0xbb]));
    expect(framed.toString('hex')).toBe('0001020304aabb');
    expect(unframeConfluent(framed)).toEqual({ ok: true, schemaId: 0x01020304, payload: Buffer.from([0xaa, 0xbb]) });
    expect(unframeConfluent(frameConfluent(0x7fffffff, Buffer.alloc(0)))).toMatchObject({ ok: true, schemaId: 0x7fffffff });
  });

  it('reports short frames, bad magic bytes and negative ids', () => {
    expect(unframeConfluent(Buffer.from([0, 0, 0, 1]))).toMatchObject({ ok: false, reason: expect.stringMatching(/5 header bytes, got 4/) });
    expect(unframeConfluent(Buffer.from([1, 0, 0, 0, 1]))).toMatchObject({ ok: false, reason: expect.stringMatching(/magic byte must be 0, got 1/) });
    expect(unframeConfluent(Buffer.from([0, 0xff, 0xff, 0xff, 0xff]))).toMatchObject({ ok: false });
  });

  it('refuses ids the format cannot carry', () => {
    for (const id of [-1, 2 ** 31, 1.5]) expect(() => frameConfluent(id, Buffer.alloc(0))).toThrow(RangeError);
  });
});
