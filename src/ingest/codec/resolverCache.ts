/**
 * Resolvers from writer schemas to one reader schema, built once per distinct writer.
 * Building a resolver walks both schemas; a topic carries millions of messages but only a
 * handful of writer schemas, so each is resolved once (Avro schema resolution:
 * https://avro.apache.org/docs/1.11.1/specification/#schema-resolution).
 */
import type avro from 'avsc';

export interface ResolverCache {
  /** The resolver from `writer` to the reader. Throws avsc's error when the writer cannot be read as the reader. */
  get(writer: avro.Type): avro.Resolver;
  /** Number of resolvers built so far. */
  readonly size: number;
}

/** Key of a writer: its full schema, attributes included, so that two types with the same text share one resolver. */
function writerKey(writer: avro.Type): string {
  return JSON.stringify(writer.schema({ exportAttrs: true }));
}

export function createResolverCache(reader: avro.Type): ResolverCache {
  const byType = new WeakMap<avro.Type, avro.Resolver>();
  const bySchema = new Map<string, avro.Resolver>();
  return {
    get(writer) {
      const known = byType.get(writer);
      if (known) return known;
      const key = writerKey(writer);
      let resolver = bySchema.get(key);
      if (!resolver) {
        resolver = reader.createResolver(writer);
        bySchema.set(key, resolver);
      }
      byType.set(writer, resolver);
      return resolver;
    },
    get size() {
      return bySchema.size;
    },
  };
}
