/** Hand-driven time for writer tests: timers fire and sleeps end only when the test says so. */
import type { Logger } from '../../../../src/log.ts';
import type { Sleep } from '../../../../src/sinks/backoff.ts';
import type { Timers } from '../../../../src/sinks/lineBuffer.ts';

export interface ManualTimers extends Timers {
  /** Delays of every timer ever set, ms. */
  set: number[];
  /** Timers set and neither fired nor cleared. */
  pending(): number;
  /** Resolves when the next timer is set (or at once if one is pending). */
  armed(): Promise<void>;
  /** Fires every pending timer. */
  fireAll(): void;
}

export function manualTimers(): ManualTimers {
  let nextId = 0;
  const live = new Map<number, () => void>();
  let onArm: (() => void) | null = null;
  const set: number[] = [];
  return {
    set,
    setTimeout(fn, ms) {
      const id = nextId++;
      live.set(id, fn);
      set.push(ms);
      onArm?.();
      return id;
    },
    clearTimeout(handle) {
      live.delete(handle as number);
    },
    pending: () => live.size,
    armed() {
      if (live.size > 0) return Promise.resolve();
      return new Promise((resolve) => {
        onArm = () => {
          onArm = null;
          resolve();
        };
      });
    },
    fireAll() {
      const fns = [...live.values()];
      live.clear();
      fns.forEach((fn) => fn());
    },
  };
}

export interface ManualSleep {
  sleep: Sleep;
  /** Every requested delay, ms. */
  delays: number[];
  /** Resolves when a sleep is pending (at once if one already is). */
  requested(): Promise<void>;
  /** Ends the oldest pending sleep. */
  release(): void;
}

/** A sleep that ends only on `release()`; with `auto`, every sleep ends at once. */
export function manualSleep(auto = false): ManualSleep {
  const pending: (() => void)[] = [];
  let onRequest: (() => void) | null = null;
  const delays: number[] = [];
  return {
    delays,
    sleep(ms) {
      delays.push(ms);
      if (auto) return Promise.resolve();
      return new Promise<void>((resolve) => {
        pending.push(resolve);
        onRequest?.();
      });
    },
    requested() {
      if (pending.length > 0) return Promise.resolve();
      return new Promise((resolve) => {
        onRequest = () => {
          onRequest = null;
          resolve();
        };
      });
    },
    release() {
      const next = pending.shift();
      if (!next) throw new Error('no sleep is pending');
      next();
    },
  };
}

export interface LogRecord {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps its records for assertions. */
export function recordingLogger(records: LogRecord[] = []): Logger & { records: LogRecord[] } {
  const at = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => {
    records.push({ level, msg, fields });
  };
  return { records, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), namespace: () => recordingLogger(records) };
}
