/**
 * The Confluent Schema Registry wire format, which avsc does not handle:
 * byte 0 is the magic byte 0, bytes 1-4 the writer's schema id (big-endian int32),
 * then the Avro binary written with that schema.
 * https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format
 */

export const CONFLUENT_MAGIC = 0;
/** bytes before the Avro payload: magic + schema id. */
export const CONFLUENT_HEADER_BYTES = 5;

export type ConfluentFrame = { ok: true; schemaId: number; payload: Buffer } | { ok: false; reason: string };

/** True for a schema id the format can carry (a non-negative int32). */
export function isSchemaId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id <= 0x7fffffff;
}

/**
 * Prefixes an Avro payload with the magic byte and the schema id.
 *
 * @example frameConfluent(7, avroBytes) // <00 00 00 00 07 ...avroBytes>
 */
export function frameConfluent(schemaId: number, payload: Buffer): Buffer {
  if (!isSchemaId(schemaId)) throw new RangeError(`confluent schema id must be an int32 >= 0, got ${schemaId}`);
  const header = Buffer.alloc(CONFLUENT_HEADER_BYTES);
  header.writeUInt8(CONFLUENT_MAGIC, 0);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, payload]);
}

/** Splits a framed message into schema id and payload; a bad frame is a result, not an exception. */
export function unframeConfluent(buf: Buffer): ConfluentFrame {
  if (buf.length < CONFLUENT_HEADER_BYTES) {
    return { ok: false, reason: `confluent frame needs ${CONFLUENT_HEADER_BYTES} header bytes, got ${buf.length}` };
  }
  const magic = buf.readUInt8(0);
  if (magic !== CONFLUENT_MAGIC) {
    return { ok: false, reason: `confluent magic byte must be ${CONFLUENT_MAGIC}, got ${magic}` };
  }
  const schemaId = buf.readInt32BE(1);
  if (schemaId < 0) return { ok: false, reason: `confluent schema id must be >= 0, got ${schemaId}` };
  return { ok: true, schemaId, payload: buf.subarray(CONFLUENT_HEADER_BYTES) };
}
