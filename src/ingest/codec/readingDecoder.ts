/**
 * Kafka message value → `SensorReading`, for the three wire formats a topic may carry:
 *
 * - `avro`: plain Avro binary. Written with the reader schema, or with the writer schema
 *   declared for the topic in `writerSchemas` (old producers), resolved into the reader.
 * - `confluent`: magic byte 0, the writer's schema id (int32 BE), Avro binary. The id is
 *   looked up in `schemaIds`, else in the schema registry (`registry`, fetched by `prepare`),
 *   and resolved into the reader schema.
 * - `json`: a UTF-8 JSON object with the reader's fields; `timestamp` is epoch ms or an
 *   ISO-8601 date-time with a zone. Unknown fields are ignored (newer producers).
 *
 * Every failure is an `IngestError` with the message coordinates and, where it applies, the
 * field path; the consumer sends such messages to the dead-letter topic.
 *
 * @example
 *   const { decode } = createReadingDecoder({ readerSchemaPath: 'schemas/sensor-reading.avsc',
 *     formats: { legacy: 'json' }, defaultFormat: 'confluent', schemaIds: { '1': 'schemas/sensor-reading.avsc' },
 *     maxMessageBytes: 1_048_576 });
 *   const reading = decode(message.value, { topic, partition, offset: message.offset });
 */
import type { IngestConfig } from '../../config/schema.ts';
import type avro from 'avsc';
import type { IngestFormat } from '../../config/schema.ts';
import { ConfigError, IngestError, RegistryError } from '../../errors.ts';
import type { SensorReading, SourceCoord } from '../../types.ts';
import { isSchemaId, unframeConfluent } from './confluentWire.ts';
import { loadSchema, parseSchema } from './loadSchema.ts';
import { createRegistryCache, type RegistryCacheOptions, type RegistryWait } from './registryCache.ts';
import { createRegistryClient } from './registryClient.ts';
import { createResolverCache, type ResolverCache } from './resolverCache.ts';
import { parseIsoMillis, TimestampRangeError } from './timestampMillis.ts';
import { DEFAULT_MAX_NAME_LENGTH } from '../../textRules.ts';
import { avroBoundsProblem } from './avroBounds.ts';
import { findInvalidField, toSensorReading, validateReading } from './validateReading.ts';

export interface ReadingDecoderOptions {
  /** Path of the reader schema (`ingest.readingSchema`). */
  readerSchemaPath: string;
  /** Topic → wire format (`ingest.formats`). */
  formats: Record<string, IngestFormat>;
  /** Format of topics not in `formats` (`ingest.format`). */
  defaultFormat: IngestFormat;
  /** Confluent schema id (decimal string) → path of the writer's .avsc (`ingest.schemaIds`). */
  schemaIds: Record<string, string>;
  /** Plain-Avro topic → path of the schema its producers write with; default: the reader schema. */
  writerSchemas?: Record<string, string>;
  /** bytes; larger values are rejected before any parsing (`ingest.maxMessageBytes`). */
  maxMessageBytes: number;
  /** characters per entity id, channel name, tag key and value (`ingest.maxNameLength`); default 256. */
  maxNameLength?: number;
  /** A schema registry for ids not in `schemaIds` (`ingest.registry`); none by default. */
  registry?: Omit<RegistryCacheOptions<Writer>, 'toWriter'>;
}

export interface ReadingDecoder {
  /** Decodes one message value. Throws `IngestError`. Safe to destructure. */
  decode(value: Buffer | null, source: SourceCoord): SensorReading;
  /** The wire format of a topic. */
  formatOf(topic: string): IngestFormat;
  /**
   * Fetches from the registry the schema ids of these values that neither `schemaIds` nor the
   * cache knows, so that `decode` can stay synchronous; resolves at once when there is nothing to
   * fetch. Call it before decoding a batch. Waits out an unreachable registry (see registryCache.ts).
   */
  prepare(values: ReadonlyArray<Buffer | null>, topic: string, wait?: RegistryWait): Promise<void>;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Builds the decoder. Every schema is loaded and every resolver built here, so a missing
 * file or a writer schema the reader cannot resolve stops start-up with a `ConfigError`
 * instead of dead-lettering every message.
 */
export function createReadingDecoder(opts: ReadingDecoderOptions): ReadingDecoder {
  const { formats, defaultFormat, maxMessageBytes, schemaIds, writerSchemas = {}, maxNameLength = DEFAULT_MAX_NAME_LENGTH } = opts;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes <= 0) {
    throw new ConfigError('ingest.maxMessageBytes', `must be a positive integer of bytes, got ${maxMessageBytes}`);
  }
  const reader = loadSchema(opts.readerSchemaPath, 'ingest.readingSchema');
  const cache = createResolverCache(reader);
  const formatOf = (topic: string): IngestFormat => formats[topic] ?? defaultFormat;

  const byId = new Map<number, Writer>();
  for (const [id, path] of Object.entries(schemaIds)) {
    const key = `ingest.schemaIds.${id}`;
    if (!/^\d+$/.test(id) || !isSchemaId(Number(id))) throw new ConfigError(key, `schema id must be an int32 >= 0, got "${id}"`);
    byId.set(Number(id), resolveWriter(cache, path, key));
  }
  const byTopic = new Map<string, Writer>();
  for (const [topic, path] of Object.entries(writerSchemas)) {
    const key = `ingest.writerSchemas.${topic}`;
    if (formatOf(topic) !== 'avro') {
      throw new ConfigError(key, `a writer schema applies to plain avro topics only; topic ${topic} is ${formatOf(topic)}`);
    }
    byTopic.set(topic, resolveWriter(cache, path, key));
  }

  const decodeAvro = (payload: Buffer, writer: Writer | undefined, source: SourceCoord): SensorReading => {
    // avsc loops over a block count without bounds: walk the bytes first (avroBounds.ts).
    const outOfBounds = avroBoundsProblem(writer?.type ?? reader, payload);
    if (outOfBounds) throw new IngestError('DECODE_FAILED', `avro decode failed: ${outOfBounds}`, source);
    let record: Record<string, unknown>;
    try {
      record = reader.fromBuffer(payload, writer?.resolver) as Record<string, unknown>;
    } catch (err) {
      // The reading schema has one timestamp-millis field.
      if (err instanceof TimestampRangeError) throw new IngestError('RECORD_INVALID', err.message, source, 'timestamp');
      throw new IngestError('DECODE_FAILED', `avro decode failed: ${(err as Error).message}`, source);
    }
    return toSensorReading(record);
  };

  const registry = opts.registry && createRegistryCache<Writer>({ ...opts.registry, toWriter: (schema, type) => registryWriter(cache, schema, type) });

  const writerOf = (schemaId: number, source: SourceCoord): Writer => {
    const mapped = byId.get(schemaId);
    if (mapped) return mapped;
    if (!registry) throw new IngestError('SCHEMA_UNKNOWN', `confluent schema id ${schemaId} is not in ingest.schemaIds`, source);
    const entry = registry.get(schemaId);
    if (entry?.ok) return entry.writer;
    if (entry) throw new IngestError('SCHEMA_UNKNOWN', entry.reason, source);
    // Not an IngestError: the message is not at fault, and must not be dead-lettered.
    throw new RegistryError(`confluent schema id ${schemaId} was not fetched from the registry before decoding (call prepare first)`, { url: opts.registry!.client.url, schemaId });
  };

  const decodeConfluent = (value: Buffer, source: SourceCoord): SensorReading => {
    const frame = unframeConfluent(value);
    if (!frame.ok) throw new IngestError('DECODE_FAILED', frame.reason, source);
    return decodeAvro(frame.payload, writerOf(frame.schemaId, source), source);
  };

  const prepare = async (values: ReadonlyArray<Buffer | null>, topic: string, wait?: RegistryWait): Promise<void> => {
    if (!registry || formatOf(topic) !== 'confluent') return;
    const ids: number[] = [];
    for (const v of values) {
      const frame = v === null || v.length > maxMessageBytes ? undefined : unframeConfluent(v);
      if (frame?.ok && !byId.has(frame.schemaId) && registry.needs(frame.schemaId)) ids.push(frame.schemaId);
    }
    if (ids.length > 0) await registry.fetch(ids, wait);
  };

  const decodeJson = (value: Buffer, source: SourceCoord): SensorReading => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(UTF8.decode(value));
    } catch (err) {
      throw new IngestError('DECODE_FAILED', `json decode failed: ${(err as Error).message}`, source);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new IngestError('RECORD_INVALID', `record: expected a JSON object, got ${Array.isArray(parsed) ? 'an array' : String(parsed)}`, source);
    }
    const record = { ...(parsed as Record<string, unknown>) };
    if (typeof record.timestamp === 'string') {
      const ms = parseIsoMillis(record.timestamp);
      if (ms === undefined) {
        throw new IngestError('RECORD_INVALID', `timestamp: "${record.timestamp}" is not an ISO-8601 date-time with a zone`, source, 'timestamp');
      }
      record.timestamp = ms;
    }
    const problem = findInvalidField(reader, record);
    if (problem) throw new IngestError(problem.code, problem.message, source, problem.field);
    return toSensorReading(record);
  };

  const decode = (value: Buffer | null, source: SourceCoord): SensorReading => {
    if (value === null) throw new IngestError('DECODE_FAILED', 'message has no value (tombstone)', source);
    if (value.length > maxMessageBytes) {
      throw new IngestError('MESSAGE_TOO_LARGE', `message of ${value.length} bytes exceeds ingest.maxMessageBytes=${maxMessageBytes}`, source);
    }
    const format = formatOf(source.topic);
    const reading =
      format === 'json' ? decodeJson(value, source)
      : format === 'confluent' ? decodeConfluent(value, source)
      : decodeAvro(value, byTopic.get(source.topic), source);
    const problem = validateReading(reading, { maxNameLength });
    if (problem) throw new IngestError(problem.code, problem.message, source, problem.field);
    return reading;
  };

  return { decode, formatOf, prepare };
}

/** A writer schema and its resolver into the reader. */
interface Writer {
  type: avro.Type;
  resolver: avro.Resolver;
}

/** A writer from a registry schema; throws a message fit for the dead-letter topic. */
function registryWriter(cache: ResolverCache, schema: string, schemaType: string): Writer {
  if (schemaType !== 'AVRO') throw new Error(`the registry holds a ${schemaType} schema, not Avro`);
  let type: avro.Type;
  try {
    type = parseSchema(JSON.parse(schema) as avro.Schema);
  } catch (err) {
    throw new Error(`the registry's schema is not valid Avro: ${(err as Error).message}`);
  }
  try {
    return { type, resolver: cache.get(type) };
  } catch (err) {
    throw new Error(`the registry's schema cannot be resolved into the reading schema: ${(err as Error).message}`);
  }
}

function resolveWriter(cache: ResolverCache, path: string, key: string): Writer {
  const writer = loadSchema(path, key);
  try {
    return { type: writer, resolver: cache.get(writer) };
  } catch (err) {
    throw new ConfigError(key, `writer schema ${path} cannot be resolved into the reading schema: ${(err as Error).message}`);
  }
}

/** The decoder the `ingest` section of the config describes (the service and `train --topic` share it). */
export function readingDecoderFor(ingest: Readonly<IngestConfig>): ReadingDecoder {
  return createReadingDecoder({
    readerSchemaPath: ingest.readingSchema,
    formats: { ...ingest.formats },
    defaultFormat: ingest.format,
    schemaIds: { ...ingest.schemaIds },
    writerSchemas: { ...ingest.writerSchemas },
    maxMessageBytes: ingest.maxMessageBytes,
    maxNameLength: ingest.maxNameLength,
    registry: registryOptions(ingest.registry),
  });
}

function registryOptions(r: IngestConfig['registry']): ReadingDecoderOptions['registry'] {
  if (r.url === null) return undefined;
  return { client: createRegistryClient({ url: r.url, requestTimeoutMs: r.requestTimeoutMs }), missTtlMs: r.missTtlMs, retryMaxMs: r.retryMaxMs };
}
