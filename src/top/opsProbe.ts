/**
 * Reads a running service's operator endpoint (src/ops): one `/metrics` scrape reduced to the
 * figures `top` shows, and what `/readyz` answers. `/readyz` lives next to `/metrics`.
 *
 * @example
 * const probe = createOpsProbe({ metricsUrl: 'http://127.0.0.1:9464/metrics', timeoutMs: 900 });
 * const r = await probe.read(); // { ok: true, scrape, readiness } or { ok: false, error }
 */
import { METRICS } from '../metrics.ts';
import type { OpsScrape, Readiness } from './topModel.ts';
import { parsePromText, sumOf } from './promText.ts';

export type OpsReading = { ok: true; scrape: OpsScrape; readiness: Readiness | null } | { ok: false; error: string };

export interface OpsProbe {
  readonly metricsUrl: string;
  read(): Promise<OpsReading>;
}

/** `/readyz` on the same host and port as `metricsUrl`. */
export function readyzUrl(metricsUrl: string): string {
  return new URL('/readyz', metricsUrl).toString();
}

/** `ECONNREFUSED` rather than fetch's bare `fetch failed`. */
export function fetchErrorReason(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return 'timed out';
  return err.cause?.code ?? err.cause?.message ?? err.message;
}

/** The figures of one scrape (metrics.ts names); a counter the service has not created yet reads 0. */
export function opsScrapeOf(text: string, at: number): OpsScrape {
  const samples = parsePromText(text);
  return {
    at,
    readings: sumOf(samples, METRICS.readingsDecoded) ?? 0,
    windows: sumOf(samples, METRICS.windowsScored) ?? 0,
    lag: sumOf(samples, METRICS.consumerLag) ?? null,
  };
}

/** /readyz's JSON (ops/startOps.ts): `{ ready, notReady }`; null when the body is not that. */
export function readinessOf(status: number, body: string): Readiness | null {
  try {
    const j = JSON.parse(body) as { ready?: unknown; notReady?: unknown };
    const notReady = Array.isArray(j.notReady) ? j.notReady.map(String) : [];
    return { ready: status === 200 && j.ready !== false, notReady };
  } catch {
    return null;
  }
}

export function createOpsProbe(opts: { metricsUrl: string; timeoutMs: number; now?: () => number }): OpsProbe {
  const now = opts.now ?? Date.now;
  const get = async (url: string) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs) });
    return { status: res.status, body: await res.text() };
  };
  return {
    metricsUrl: opts.metricsUrl,
    async read() {
      try {
        const [m, r] = await Promise.all([get(opts.metricsUrl), get(readyzUrl(opts.metricsUrl)).catch(() => undefined)]);
        if (m.status !== 200) return { ok: false, error: `answered ${m.status}` };
        return { ok: true, scrape: opsScrapeOf(m.body, now()), readiness: r ? readinessOf(r.status, r.body) : null };
      } catch (e) {
        return { ok: false, error: fetchErrorReason(e) };
      }
    },
  };
}
