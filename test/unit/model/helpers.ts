/** Shared helpers of the model tests. */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../../../src/model/backend.ts';
import type { Logger } from '../../../src/log.ts';

export interface CapturedLog extends Logger {
  lines: { level: string; msg: string; fields?: Record<string, unknown> }[];
}

/** A logger that records instead of printing. */
export function captureLogger(): CapturedLog {
  const lines: CapturedLog['lines'] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  const log: CapturedLog = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), namespace: () => log };
  return log;
}

export async function useBackend(name: BackendName): Promise<void> {
  await initBackend(name, captureLogger());
  if (tf.getBackend() !== name) throw new Error(`expected backend ${name}, got ${tf.getBackend()}`);
}

/** Largest absolute elementwise difference of two same-shaped tensors. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Run `job` while a 10 ms interval measures the largest gap between its ticks (event-loop health). */
export async function probeEventLoop<T>(job: () => Promise<T>): Promise<{ value: T; maxGap: number; ticks: number; elapsedMs: number }> {
  let last = performance.now();
  let maxGap = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, 10);
  const started = performance.now();
  try {
    const value = await job();
    return { value, maxGap, ticks, elapsedMs: performance.now() - started };
  } finally {
    clearInterval(timer);
  }
}
