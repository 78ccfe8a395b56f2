export { createAnomalyCodec, type AnomalyCodec, type AnomalyCodecOptions } from './anomalyCodec.ts';
export { CONFLUENT_HEADER_BYTES, CONFLUENT_MAGIC, frameConfluent, isSchemaId, unframeConfluent, type ConfluentFrame } from './confluentWire.ts';
export { ANOMALY_SCHEMA_PATH, LOGICAL_TYPES, loadSchema, parseSchema, READING_SCHEMA_PATH } from './loadSchema.ts';
export { createReadingDecoder, readingDecoderFor, type ReadingDecoder, type ReadingDecoderOptions } from './readingDecoder.ts';
export { defaultReadingType, encodeReading, type EncodeReadingOptions } from './readingEncoder.ts';
export { createResolverCache, type ResolverCache } from './resolverCache.ts';
export { MAX_TIMESTAMP_MS, parseIsoMillis, TimestampMillisType, TimestampRangeError, toEpochMillis } from './timestampMillis.ts';
export { findInvalidField, toSensorReading, validateReading, type FieldProblem } from './validateReading.ts';
