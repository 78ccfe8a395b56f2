/**
 * Confluent schema ids resolved through a schema registry: the HTTP client's reading of the
 * Confluent API, the cache (found forever, misses briefly, outages retried), and the decoder's
 * prepare → decode path. A tiny node:http server stands in for the registry here; the real one
 * (Apicurio) is exercised by test/integration/ingest/schemaRegistry.test.ts.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IngestError, RegistryError } from '../../../../src/errors.ts';
import { frameConfluent } from '../../../../src/ingest/codec/confluentWire.ts';
import { createReadingDecoder } from '../../../../src/ingest/codec/readingDecoder.ts';
import { encodeReading } from '../../../../src/ingest/codec/readingEncoder.ts';
import { createRegistryCache } from '../../../../src/ingest/codec/registryCache.ts';
import { createRegistryClient } from '../../../../src/ingest/codec/registryClient.ts';
import type { SensorReading } from '../../../../src/types.ts';
import { READING_SCHEMA, READING_V1_SCHEMA, source } from './fixtures.ts';

/** id → [status, body]; ids absent answer 404 / 40403. */
let answers = new Map<number, [number, unknown]>();
let requests: number[] = [];
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const m = /^\/api\/schemas\/ids\/(\d+)$/.exec(req.url ?? '');
    const id = m ? Number(m[1]) : -1;
    requests.push(id);
    const [status, body] = answers.get(id) ?? (m ? [404, { error_code: 40403, message: `Schema ${id} not found` }] : [404, 'no such path']);
    res.writeHead(status, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  answers = new Map();
  requests = [];
});

const readingSchema = readFileSync(READING_SCHEMA, 'utf8');
const reading: SensorReading = { entityId: 'press-7', timestamp: 1_700_000_000_123, values: { temp: 21.5 } };
const noSleep = async () => undefined;

describe('createRegistryClient', () => {
  it('reads a schema, defaults schemaType to AVRO, and tells an unknown id (40403) from a wrong URL (plain 404)', async () => {
    answers.set(3, [200, { schema: readingSchema }]);
    answers.set(4, [200, { schema: 'syntax = "proto3";', schemaType: 'PROTOBUF' }]);
    const client = createRegistryClient({ url, requestTimeoutMs: 2_000 });
    expect(await client.schemaById(3)).toEqual({ found: true, schema: readingSchema, schemaType: 'AVRO' });
    expect(await client.schemaById(4)).toMatchObject({ found: true, schemaType: 'PROTOBUF' });
    expect(await client.schemaById(5)).toEqual({ found: false, message: 'Schema 5 not found' });
    const wrongPath = createRegistryClient({ url: `${url}/nope`, requestTimeoutMs: 2_000 });
    await expect(wrongPath.schemaById(3)).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE', retriable: true, coords: { status: 404, schemaId: 3 } });
  });

  it('throws a retriable RegistryError for a 5xx, a non-API answer and a refused connection', async () => {
    answers.set(6, [503, { error_code: 50301, message: 'busy' }]);
    answers.set(7, [200, '<html>login</html>']);
    const client = createRegistryClient({ url, requestTimeoutMs: 2_000 });
    await expect(client.schemaById(6)).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE', coords: { status: 503 } });
    await expect(client.schemaById(7)).rejects.toThrow(/without a "schema" string/);
    const closed = createRegistryClient({ url: 'http://127.0.0.1:1/api', requestTimeoutMs: 2_000 });
    await expect(closed.schemaById(1)).rejects.toBeInstanceOf(RegistryError);
  });
});

describe('createRegistryCache', () => {
  const client = () => createRegistryClient({ url, requestTimeoutMs: 2_000 });

  it('asks for a found id once, however often and however concurrently it is fetched', async () => {
    answers.set(3, [200, { schema: readingSchema }]);
    const cache = createRegistryCache({ client: client(), toWriter: (s) => s.length, missTtlMs: 1_000, retryMaxMs: 1_000 });
    await Promise.all([cache.fetch([3, 3]), cache.fetch([3])]);
    await cache.fetch([3]);
    expect(requests).toEqual([3]);
    expect(cache.get(3)).toEqual({ ok: true, writer: readingSchema.length });
    expect(cache.needs(3)).toBe(false);
  });

  it('remembers an unknown id for missTtlMs, then asks again', async () => {
    let t = 0;
    const cache = createRegistryCache({ client: client(), toWriter: (s) => s, missTtlMs: 1_000, retryMaxMs: 1_000, now: () => t });
    await cache.fetch([9]);
    expect(cache.get(9)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not know confluent schema id 9/) });
    t = 999;
    await cache.fetch([9]);
    expect(requests).toEqual([9]);
    t = 1_000;
    answers.set(9, [200, { schema: '"string"' }]);
    await cache.fetch([9]);
    expect(requests).toEqual([9, 9]);
    expect(cache.get(9)).toEqual({ ok: true, writer: '"string"' });
  });

  it('keeps a schema it cannot use as a miss for good', async () => {
    let t = 0;
    answers.set(4, [200, { schema: 'x', schemaType: 'PROTOBUF' }]);
    const toWriter = (_s: string, type: string) => {
      if (type !== 'AVRO') throw new Error(`a ${type} schema`);
      return 1;
    };
    const cache = createRegistryCache({ client: client(), toWriter, missTtlMs: 10, retryMaxMs: 1_000, now: () => t });
    await cache.fetch([4]);
    t = 1e12;
    await cache.fetch([4]);
    expect(requests).toEqual([4]);
    expect(cache.get(4)).toMatchObject({ ok: false, reason: expect.stringMatching(/PROTOBUF/) });
  });

  it('retries an outage with doubling waits capped at retryMaxMs, heartbeating, and never records a miss', async () => {
    answers.set(5, [503, {}]);
    const waits: number[] = [];
    let beats = 0;
    const sleep = async (ms: number) => {
      waits.push(ms);
      if (waits.length === 5) answers.set(5, [200, { schema: '"long"' }]);
    };
    const cache = createRegistryCache({ client: client(), toWriter: (s) => s, missTtlMs: 1_000, retryMaxMs: 1_000, retryInitialMs: 200, sleep, log: quiet });
    await cache.fetch([5], { heartbeat: async () => void beats++ });
    expect(waits).toEqual([200, 400, 800, 1_000, 1_000]);
    expect(beats).toBe(5);
    expect(cache.get(5)).toEqual({ ok: true, writer: '"long"' });
  });

  it('gives the outage up as a RegistryError once isRunning turns false', async () => {
    answers.set(5, [500, {}]);
    let running = true;
    const sleep = async () => void (running = false);
    const cache = createRegistryCache({ client: client(), toWriter: (s) => s, missTtlMs: 1_000, retryMaxMs: 1_000, sleep, log: quiet });
    await expect(cache.fetch([5], { isRunning: () => running })).rejects.toBeInstanceOf(RegistryError);
    expect(cache.get(5)).toBeUndefined();
    expect(cache.needs(5)).toBe(true);
  });
});

describe('createReadingDecoder with a registry', () => {
  const decoderWith = (schemaIds: Record<string, string> = {}) =>
    createReadingDecoder({
      readerSchemaPath: READING_SCHEMA,
      formats: { 'tel.json': 'json' },
      defaultFormat: 'confluent',
      schemaIds,
      maxMessageBytes: 4_096,
      registry: { client: createRegistryClient({ url, requestTimeoutMs: 2_000 }), missTtlMs: 60_000, retryMaxMs: 1_000, sleep: noSleep, log: quiet },
    });
  const src = source('tel.confluent');

  it('decodes ids fetched by prepare, the map winning over the registry and asking it nothing', async () => {
    answers.set(21, [200, { schema: readingSchema }]);
    answers.set(22, [200, { schema: readFileSync(READING_V1_SCHEMA, 'utf8') }]);
    const { decode, prepare } = decoderWith({ '1': READING_SCHEMA });
    const payload = encodeReading(reading, 'avro');
    const values = [frameConfluent(1, payload), frameConfluent(21, payload), frameConfluent(21, payload), null, Buffer.from('junk')];
    await prepare(values, 'tel.confluent');
    expect(requests).toEqual([21]);
    expect(decode(values[0], src)).toEqual(reading);
    expect(decode(values[1], src)).toEqual(reading);
    await prepare([frameConfluent(21, payload)], 'tel.json');
    expect(requests).toEqual([21]);
  });

  it('SCHEMA_UNKNOWN (a dead letter) for an id the registry does not know or a schema it cannot use', async () => {
    answers.set(31, [200, { schema: '{"type":"record","name":"Other","fields":[{"name":"x","type":"int"}]}' }]);
    answers.set(32, [200, { schema: '{}', schemaType: 'JSON' }]);
    const { decode, prepare } = decoderWith();
    const payload = encodeReading(reading, 'avro');
    const values = [30, 31, 32].map((id) => frameConfluent(id, payload));
    await prepare(values, 'tel.confluent');
    const errors = values.map((v) => {
      try {
        decode(v, src);
      } catch (e) {
        return e as IngestError;
      }
      throw new Error('expected a failure');
    });
    for (const e of errors) expect(e).toBeInstanceOf(IngestError);
    expect(errors.map((e) => e.code)).toEqual(['SCHEMA_UNKNOWN', 'SCHEMA_UNKNOWN', 'SCHEMA_UNKNOWN']);
    expect(errors[0].message).toMatch(/does not know confluent schema id 30/);
    expect(errors[1].message).toMatch(/cannot be resolved into the reading schema/);
    expect(errors[2].message).toMatch(/JSON schema, not Avro/);
  });

  it('an id decode meets without prepare is a RegistryError, not a dead letter', () => {
    const { decode } = decoderWith();
    expect(() => decode(frameConfluent(40, encodeReading(reading, 'avro')), src)).toThrow(RegistryError);
  });
});

const quiet = { debug() {}, info() {}, warn() {}, error() {}, namespace: () => quiet };
