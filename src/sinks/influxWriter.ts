/**
 * The InfluxDB writer: a bounded buffer, batched by size and by time, delivered one request at
 * a time (so order is kept), with backoff, splitting and bisection (deliverBatch.ts).
 *
 * `write(points)` resolves when those points are durable: stored, or permanently rejected
 * (counted and logged). It first waits for room in the buffer, so a caller that awaits it
 * slows down while InfluxDB is slow or down: backpressure, never dropped points.
 *
 * @example
 * const writer = createInfluxWriter(config.sinks.influx);
 * await writer.ensureDatabase();
 * await writer.write(scored.map(scorePoint)); // durable now: safe to commit the offsets
 * await writer.close();
 */
import type { IPoint } from 'influx';
import type { InfluxConfig } from '../config/schema.ts';
import { DiffwatchError, SinkError } from '../errors.ts';
import { rootLogger, type Logger } from '../log.ts';
import { realSleep, backoffDelay, type Random, type Sleep } from './backoff.ts';
import { deliverBatch, type DeliveryStats } from './deliverBatch.ts';
import { createInfluxHttp, ensureDatabaseExists, INFLUX_SINK, type InfluxHttp } from './influxHttp.ts';
import { PointInvalid, toLineProtocol } from './lineProtocol.ts';
import { createLineBuffer, type Timers } from './lineBuffer.ts';

export interface InfluxWriterOptions {
  log?: Logger;
  /** Uniform [0, 1) source for backoff jitter. */
  random?: Random;
  /** Waits between retries. */
  sleep?: Sleep;
  /** Schedules the flush-interval timer. */
  timers?: Timers;
  /** Replaces the HTTP client (tests of the buffer alone). */
  http?: InfluxHttp;
}

/** A point of a `write` call that was not stored, and why. */
export interface RejectedPoint {
  /** Index of the point in the array given to `write`. */
  index: number;
  /** POINT_INVALID (refused before sending) or SINK_REJECTED (InfluxDB answered 400 for it alone). */
  error: DiffwatchError;
}

/**
 * What one `write` call came to. A point counts as written only when InfluxDB answered 2xx to a
 * request holding it; one in `rejectedPoints` was not stored (InfluxDB 1.x may keep the other
 * points of a 400 "partial write"; bisection sends them again, which overwrites).
 */
export interface WriteResult {
  /** Points stored. */
  written: number;
  /** Points given up: invalid before sending, or rejected by the server. */
  rejected: number;
  rejectedPoints: RejectedPoint[];
}

export interface InfluxWriterStats extends DeliveryStats {
  /** Points refused before sending (NaN field, no fields, bad timestamp). */
  invalid: number;
  /** Points accepted into the buffer and not yet delivered, including the batch in flight. */
  buffered: number;
}

export interface InfluxWriter {
  /** Creates the database if needed; retries transient failures up to `attempts` times. */
  ensureDatabase(attempts?: number): Promise<void>;
  write(points: readonly IPoint[]): Promise<WriteResult>;
  /** Resolves when everything written so far is delivered. */
  flush(): Promise<void>;
  /**
   * Flushes, stops the timer; later writes reject with SINK_CLOSED. While InfluxDB is down this
   * waits like `write` does: buffered points are never dropped to make shutdown quicker.
   */
  close(): Promise<void>;
  stats(): InfluxWriterStats;
  readonly buffered: number;
}

export function createInfluxWriter(cfg: InfluxConfig, opts: InfluxWriterOptions = {}): InfluxWriter {
  const log = opts.log ?? rootLogger.namespace('sinks.influx');
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? realSleep;
  const http = opts.http ?? createInfluxHttp(cfg);
  const backoff = { baseMs: cfg.retryDelayMs, maxMs: cfg.maxRetryDelayMs };
  const delivery: DeliveryStats = { written: 0, rejected: 0, requests: 0, retries: 0, splits: 0 };
  let invalid = 0;
  let closed = false;

  const buffer = createLineBuffer({
    batchSize: cfg.batchSize,
    maxBufferPoints: cfg.maxBufferPoints,
    flushIntervalMs: cfg.flushIntervalMs,
    timers: opts.timers,
    deliver: (lines) => deliverBatch(lines, { http, backoff, random, sleep, log, stats: delivery }),
  });

  /** The lines of the valid points, the index of each line's point, and the refused points. */
  function serialise(points: readonly IPoint[]): { lines: string[]; pointOf: number[]; refused: RejectedPoint[] } {
    const lines: string[] = [];
    const pointOf: number[] = [];
    const refused: RejectedPoint[] = [];
    points.forEach((point, index) => {
      try {
        lines.push(toLineProtocol(point));
        pointOf.push(index);
      } catch (err) {
        if (!(err instanceof PointInvalid)) throw err;
        invalid++;
        refused.push({ index, error: err });
        log.error('influx point invalid, not sent', { ...err.coords, code: err.code, error: err.message, batchSize: points.length });
      }
    });
    return { lines, pointOf, refused };
  }

  const sinkRejected = (e: Error | undefined): DiffwatchError =>
    e instanceof DiffwatchError ? e : new SinkError('SINK_REJECTED', e?.message ?? 'InfluxDB rejected the point', { sink: INFLUX_SINK, retriable: false });

  return {
    async ensureDatabase(attempts = 5) {
      for (let attempt = 0; ; attempt++) {
        try {
          await ensureDatabaseExists(http, cfg.database);
          return;
        } catch (err) {
          if (!(err instanceof DiffwatchError) || !err.retriable || attempt + 1 >= attempts) throw err;
          const delayMs = backoffDelay(attempt, backoff, random);
          log.warn('influx create database failed, retrying', { attempt: attempt + 1, delayMs, error: err.message });
          await sleep(delayMs);
        }
      }
    },
    async write(points) {
      if (closed) throw new SinkError('SINK_CLOSED', 'the InfluxDB writer is closed', { sink: INFLUX_SINK, batchSize: points.length, retriable: false });
      const { lines, pointOf, refused } = serialise(points);
      const pushed = await buffer.push(lines);
      const rejectedPoints = [...refused, ...pushed.lines.map((l) => ({ index: pointOf[l.index], error: sinkRejected(l.error) }))].sort((a, b) => a.index - b.index);
      return { written: lines.length - pushed.rejected, rejected: rejectedPoints.length, rejectedPoints };
    },
    flush: () => buffer.flush(),
    async close() {
      closed = true;
      await buffer.close();
    },
    stats: () => ({ ...delivery, invalid, buffered: buffer.size }),
    get buffered() {
      return buffer.size;
    },
  };
}
