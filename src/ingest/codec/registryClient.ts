/**
 * A minimal client of the Confluent Schema Registry API: one call, `GET /schemas/ids/{id}`.
 * https://docs.confluent.io/platform/current/schema-registry/develop/api.html#get--schemas-ids-int-%20id
 *
 * Plain `fetch` rather than `@kafkajs/confluent-schema-registry`: that library decodes messages
 * itself (its own avsc types and cache), whereas diffwatch resolves every writer schema into its
 * one reader schema, dead-letters per message, and must tell "the registry does not know this
 * id" (a bad message) from "the registry is down" (an outage), which it folds together.
 *
 * Works against Confluent's registry (`http://host:8081`) and Apicurio's compatibility API
 * (`http://host:8080/apis/ccompat/v7`): the configured URL is the base the path is appended to.
 *
 * @example
 *   const client = createRegistryClient({ url: 'http://127.0.0.1:8081/apis/ccompat/v7', requestTimeoutMs: 5_000 });
 *   const answer = await client.schemaById(7); // { found: true, schema: '{"type":"record",...}', schemaType: 'AVRO' }
 */
import { RegistryError } from '../../errors.ts';

/** The registry's answer for one id: its schema, or its word that it has none. Outages throw instead. */
export type RegistryAnswer = { found: true; schema: string; schemaType: string } | { found: false; message: string };

export interface RegistryClient {
  /** The base URL, as configured (`ingest.registry.url`). */
  readonly url: string;
  /** Throws `RegistryError` (retriable) when the registry cannot be asked or answers outside the API. */
  schemaById(id: number): Promise<RegistryAnswer>;
}

export interface RegistryClientOptions {
  /** Base URL of the API (`ingest.registry.url`). */
  url: string;
  /** ms per request (`ingest.registry.requestTimeoutMs`). */
  requestTimeoutMs: number;
  /** Injected for tests; default the global fetch. */
  fetch?: typeof globalThis.fetch;
}

/** The Confluent error code of "schema not found" (HTTP 404). */
export const SCHEMA_NOT_FOUND = 40403;

const ACCEPT = 'application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json';

export function createRegistryClient(opts: RegistryClientOptions): RegistryClient {
  const { url, requestTimeoutMs, fetch = globalThis.fetch } = opts;
  const base = url.replace(/\/+$/, '');
  return {
    url,
    async schemaById(id) {
      const coords = { url, schemaId: id };
      let res: Response;
      let body: unknown;
      try {
        res = await fetch(`${base}/schemas/ids/${id}`, { headers: { accept: ACCEPT }, signal: AbortSignal.timeout(requestTimeoutMs) });
        const text = await res.text();
        body = parseJson(text);
      } catch (err) {
        throw new RegistryError(`schema registry ${url} unreachable: ${(err as Error).message}`, coords, err);
      }
      const status = res.status;
      const errorCode = (body as { error_code?: unknown } | undefined)?.error_code;
      if (status === 404 && errorCode === SCHEMA_NOT_FOUND) {
        const message = (body as { message?: unknown }).message;
        return { found: false, message: typeof message === 'string' ? message : `schema ${id} not found` };
      }
      if (status !== 200) {
        // A 404 without error 40403 is a wrong URL (a missing /apis/ccompat/v7, say), not an unknown id.
        throw new RegistryError(`schema registry ${url} answered HTTP ${status} for schema id ${id}${errorCode !== undefined ? ` (error ${String(errorCode)})` : ''}`, { ...coords, status });
      }
      const { schema, schemaType } = (body ?? {}) as { schema?: unknown; schemaType?: unknown };
      if (typeof schema !== 'string') throw new RegistryError(`schema registry ${url} answered 200 for schema id ${id} without a "schema" string: is the URL the Confluent-compatible API?`, { ...coords, status });
      // Confluent omits schemaType for Avro, the default.
      return { found: true, schema, schemaType: typeof schemaType === 'string' ? schemaType : 'AVRO' };
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
