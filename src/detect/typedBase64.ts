/**
 * Typed arrays as base64 inside the detector's JSON snapshots (the state topic). The bytes are the
 * platform's, little-endian on every machine diffwatch runs on.
 *
 * @example
 * const b64 = toBase64(new Float64Array([1, 2]));
 * const xs = fromBase64(b64, Float64Array); // Float64Array [1, 2]
 */

/** The bytes of `values` only, even when it is a view into a larger buffer. */
export function toBase64(values: ArrayBufferView): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

/** Typed values from base64 (a copy, so that the array is aligned). */
export function fromBase64<T extends Float64Array | Uint16Array>(b64: string, Kind: { new (b: ArrayBuffer): T }): T {
  const bytes = Buffer.from(b64, 'base64');
  return new Kind(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}
