/**
 * Writer schemas fetched from a schema registry by Confluent schema id, kept in memory.
 *
 * - A found schema is kept for the life of the process: a registry never reassigns an id.
 * - An id the registry does not know (404, error 40403), or whose schema cannot be read as the
 *   reader, is a miss: decode dead-letters its messages as SCHEMA_UNKNOWN. An unknown id is asked
 *   again after `missTtlMs` (a producer may register it late); an unreadable schema never is.
 * - An unreachable registry is an outage, never a miss: `fetch` retries with exponential backoff
 *   (`retryInitialMs` doubling up to `retryMaxMs`) for as long as `isRunning()` holds, so the
 *   partition waits instead of dead-lettering everything; then it throws the `RegistryError`.
 *
 * @example
 *   const cache = createRegistryCache({ client, toWriter: (s) => parse(s), missTtlMs: 30_000, retryMaxMs: 10_000 });
 *   await cache.fetch([7, 9], { isRunning: () => running });
 *   cache.get(7); // { ok: true, writer }
 */
import { RegistryError } from '../../errors.ts';
import { rootLogger, type Logger } from '../../log.ts';
import type { RegistryClient } from './registryClient.ts';

export type RegistryEntry<W> = { ok: true; writer: W } | { ok: false; reason: string };

/** How a caller waits out an outage: stop when `isRunning` turns false, keep a group membership alive with `heartbeat`. */
export interface RegistryWait {
  isRunning?: () => boolean;
  heartbeat?: () => Promise<void>;
}

export interface RegistryCacheOptions<W> {
  client: RegistryClient;
  /** A registry schema → writer; throws when it is not Avro or cannot be read as the reader. */
  toWriter(schema: string, schemaType: string): W;
  /** ms an unknown id is remembered (`ingest.registry.missTtlMs`). */
  missTtlMs: number;
  /** ms, the longest wait between two tries during an outage (`ingest.registry.retryMaxMs`). */
  retryMaxMs: number;
  /** ms before the first retry; default 200, doubled after each failure. */
  retryInitialMs?: number;
  /** Misses kept at most; the oldest goes first. Default 10 000. */
  maxMisses?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  log?: Logger;
}

export interface RegistryCache<W> {
  /** What is known of an id (a miss may be stale); undefined when it was never fetched. */
  get(id: number): RegistryEntry<W> | undefined;
  /** True when the id has not been fetched, or is a miss older than `missTtlMs`. */
  needs(id: number): boolean;
  /** Fetch every id that `needs` it, each once even when asked concurrently. */
  fetch(ids: Iterable<number>, wait?: RegistryWait): Promise<void>;
}

interface Miss {
  reason: string;
  /** epoch ms after which the id is asked again; Infinity: never. */
  retryAt: number;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createRegistryCache<W>(opts: RegistryCacheOptions<W>): RegistryCache<W> {
  const { client, toWriter, missTtlMs, retryMaxMs, retryInitialMs = 200, maxMisses = 10_000, now = Date.now, sleep = delay } = opts;
  const log = opts.log ?? rootLogger.namespace('registry');
  const found = new Map<number, W>();
  const misses = new Map<number, Miss>();
  const inFlight = new Map<number, Promise<void>>();

  const miss = (id: number, reason: string, ttlMs: number) => {
    misses.delete(id);
    misses.set(id, { reason, retryAt: now() + ttlMs });
    if (misses.size > maxMisses) misses.delete(misses.keys().next().value as number);
  };

  const needs = (id: number) => !found.has(id) && (misses.get(id)?.retryAt ?? -Infinity) <= now();

  async function fetchOne(id: number, wait: RegistryWait): Promise<void> {
    let backoff = retryInitialMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await client.schemaById(id);
        if (!answer.found) return miss(id, `the schema registry ${client.url} does not know confluent schema id ${id}: ${answer.message}`, missTtlMs);
        try {
          found.set(id, toWriter(answer.schema, answer.schemaType));
          misses.delete(id);
        } catch (err) {
          // The id's schema never changes, so neither does this verdict.
          miss(id, `confluent schema id ${id} from ${client.url}: ${(err as Error).message}`, Infinity);
        }
        return;
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        if (wait.isRunning && !wait.isRunning()) throw err;
        log.warn('schema registry unreachable; retrying', { url: client.url, schemaId: id, attempt, retryInMs: backoff, error: err.message });
        await sleep(backoff);
        await wait.heartbeat?.();
        backoff = Math.min(backoff * 2, retryMaxMs);
      }
    }
  }

  return {
    get(id) {
      const w = found.get(id);
      if (w !== undefined) return { ok: true, writer: w };
      const m = misses.get(id);
      return m ? { ok: false, reason: m.reason } : undefined;
    },
    needs,
    async fetch(ids, wait = {}) {
      const pending: Promise<void>[] = [];
      for (const id of new Set(ids)) {
        let p = inFlight.get(id);
        if (!p && needs(id)) {
          p = fetchOne(id, wait).finally(() => inFlight.delete(id));
          inFlight.set(id, p);
        }
        if (p) pending.push(p);
      }
      // Every lookup settles before the first failure is thrown, so none is left running unobserved.
      const results = await Promise.allSettled(pending);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
