/**
 * Bounded polling: the one way the stack waits for something to become true.
 * Never a fixed sleep as synchronisation; always a condition, a deadline and an error that says what timed out.
 */
import { connect } from 'node:net';

export interface WaitOptions {
  /** ms until the wait gives up. */
  timeoutMs: number;
  /** ms between two probes. */
  intervalMs?: number;
  /** What is awaited, for the timeout message, e.g. `kafka metadata on 127.0.0.1:9092`. */
  what: string;
}

/** A probe returns a value when the condition holds, or undefined to try again. */
export type Probe<T> = () => Promise<T | undefined>;

/** Thrown when a probe never held. `lastError` is the most recent probe failure, if any. */
export class WaitTimeoutError extends Error {
  constructor(readonly what: string, readonly timeoutMs: number, readonly lastError?: unknown) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message ?? String(lastError)})` : ''}`);
    this.name = 'WaitTimeoutError';
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Run `probe` until it returns a value or the deadline passes.
 * A probe that throws counts as "not yet"; throw from `abortIf` to fail fast (e.g. the process died).
 *
 *     const pid = await waitFor(async () => readPid(file), { timeoutMs: 5_000, what: 'pid file' });
 */
export async function waitFor<T>(probe: Probe<T>, opts: WaitOptions & { abortIf?: () => void }): Promise<T> {
  const interval = opts.intervalMs ?? 250;
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    opts.abortIf?.();
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) throw new WaitTimeoutError(opts.what, opts.timeoutMs, lastError);
    await delay(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
}

/** True when something accepts TCP connections on host:port. */
export function isListening(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (v: boolean) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(true)); // a silent listener is still a listener
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Wait until nothing listens on the port any more. */
export async function waitForPortFree(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  await waitFor(async () => ((await isListening(port, host)) ? undefined : true), { timeoutMs, intervalMs: 200, what: `port ${host}:${port} to be free` });
}
