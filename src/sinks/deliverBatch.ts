/**
 * Delivers one batch of lines to InfluxDB until every line is either stored or permanently
 * rejected. Nothing is ever dropped for a transient reason.
 *
 * - 429, 5xx, network: retry the same lines after a jittered exponential backoff, forever
 *   (an outage turns into backpressure upstream, not into lost data).
 * - 413: split in halves and deliver each; a single line that is still too large is rejected.
 * - 400: a single line is rejected; a larger batch is bisected so that its good lines still
 *   land. InfluxDB 1.x may already have stored the good lines of a 400 ("partial write"),
 *   so bisection rewrites some of them: harmless, points with the same series and timestamp
 *   overwrite.
 */
import type { Logger } from '../log.ts';
import { SinkError } from '../errors.ts';
import { backoffDelay, type BackoffOptions, type Random, type Sleep } from './backoff.ts';
import type { InfluxHttp } from './influxHttp.ts';

/** Counters the writer reports in `stats()`. */
export interface DeliveryStats {
  /** Points the server acknowledged. */
  written: number;
  /** Points given up because the server rejected them (400, or 413 for a single point). */
  rejected: number;
  /** HTTP write requests sent. */
  requests: number;
  /** Requests retried after a transient failure. */
  retries: number;
  /** Times a batch was halved after 413 or 400. */
  splits: number;
}

export interface DeliveryDeps {
  http: InfluxHttp;
  backoff: BackoffOptions;
  random: Random;
  sleep: Sleep;
  log: Logger;
  stats: DeliveryStats;
}

/** What became of the lines of one batch: `rejected[i]` is true when line i was given up, `errors[i]` why. */
export interface Delivery {
  rejected: boolean[];
  errors: (SinkError | undefined)[];
}

/** Longest piece of a rejected line kept in a log record. */
const MAX_LOGGED_LINE = 300;

async function sendWithRetry(lines: readonly string[], deps: DeliveryDeps): Promise<SinkError | null> {
  for (let attempt = 0; ; attempt++) {
    deps.stats.requests++;
    try {
      await deps.http.write(lines);
      return null;
    } catch (err) {
      if (!(err instanceof SinkError) || !err.retriable) {
        if (err instanceof SinkError) return err;
        throw err;
      }
      const delayMs = backoffDelay(attempt, deps.backoff, deps.random);
      deps.stats.retries++;
      deps.log.warn('influx write failed, retrying', {
        attempt: attempt + 1, delayMs, batchSize: lines.length, status: err.status, code: err.code, error: err.message,
      });
      await deps.sleep(delayMs);
    }
  }
}

function rejectOne(line: string, err: SinkError, deps: DeliveryDeps): Delivery {
  deps.stats.rejected++;
  deps.log.error('influx rejected point', {
    code: err.code, status: err.status, error: err.message, line: line.slice(0, MAX_LOGGED_LINE),
  });
  return { rejected: [true], errors: [err] };
}

/** Delivers `lines` in order; resolves when each is stored or rejected. */
export async function deliverBatch(lines: readonly string[], deps: DeliveryDeps): Promise<Delivery> {
  if (lines.length === 0) return { rejected: [], errors: [] };
  const err = await sendWithRetry(lines, deps);
  if (err === null) {
    deps.stats.written += lines.length;
    return { rejected: new Array<boolean>(lines.length).fill(false), errors: new Array<undefined>(lines.length).fill(undefined) };
  }
  if (lines.length === 1) return rejectOne(lines[0], err, deps);
  deps.stats.splits++;
  deps.log.warn(err.code === 'SINK_TOO_LARGE' ? 'influx batch too large, splitting' : 'influx rejected batch, isolating bad points', {
    batchSize: lines.length, status: err.status, error: err.message,
  });
  const mid = Math.ceil(lines.length / 2);
  // Halves go one after the other so that write order is kept.
  const first = await deliverBatch(lines.slice(0, mid), deps);
  const second = await deliverBatch(lines.slice(mid), deps);
  return { rejected: [...first.rejected, ...second.rejected], errors: [...first.errors, ...second.errors] };
}
