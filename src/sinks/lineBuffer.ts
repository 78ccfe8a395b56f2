/**
 * A bounded FIFO of line-protocol lines, cut into batches by size (`batchSize`) and by time
 * (`flushIntervalMs` after a line waits in a partial batch), handed to `deliver` one batch at a
 * time so that write order is kept.
 *
 * `push(lines)` is admitted in call order and only while there is room: lines queued plus the
 * batch in flight never exceed `maxBufferPoints`. It resolves when every one of its lines has
 * been delivered (stored or rejected), with the number rejected and, for each rejected line,
 * its index in the push and the server's reason.
 */

/** The timer calls the buffer makes; injectable so tests run the flush interval by hand. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface LineBufferOptions {
  /** Lines per delivered batch. */
  batchSize: number;
  /** Lines held at most, queued plus in flight. */
  maxBufferPoints: number;
  /** ms a partial batch may wait before it is delivered. */
  flushIntervalMs: number;
  timers?: Timers;
  /** Resolves when each line is stored or given up; `rejected[i]` marks line i given up, `errors[i]` says why. */
  deliver(lines: string[]): Promise<{ rejected: boolean[]; errors?: (Error | undefined)[] }>;
}

/** A line given up: its index in the push that brought it, and the reason when one is known. */
export interface RejectedLine {
  index: number;
  error?: Error;
}

export interface PushResult {
  rejected: number;
  /** The rejected lines, in push order. */
  lines: RejectedLine[];
}

export interface LineBuffer {
  push(lines: readonly string[]): Promise<PushResult>;
  /** Delivers everything pushed so far, without waiting for the timer. */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
  /** Lines queued plus lines in flight. */
  readonly size: number;
}

interface PushState {
  remaining: number;
  rejected: RejectedLine[];
  resolve(r: PushResult): void;
  reject(err: unknown): void;
}

interface Entry {
  line: string;
  /** Index of the line in its push. */
  index: number;
  state: PushState;
}

export function createLineBuffer(opts: LineBufferOptions): LineBuffer {
  const { batchSize, maxBufferPoints, flushIntervalMs, deliver } = opts;
  const timers = opts.timers ?? realTimers;
  const queue: Entry[] = [];
  let inFlight = 0;
  // Pushes are admitted one after another, so a large write waiting for room is not overtaken.
  let admission: Promise<void> = Promise.resolve();
  let pendingAdmissions = 0;
  let roomWaiter: (() => void) | null = null;
  let lastDone: Promise<unknown> = Promise.resolve();
  let timer: unknown = null;
  // Lines ever pushed and ever handed to deliver. Entries leave in push order, so "every line
  // pushed before this flush has been sent" is simply sent >= the pushed count at that moment.
  let pushed = 0;
  let sent = 0;
  // Partial batches are delivered at once until `sent` reaches this (a timer fired, a flush or
  // close asked, or a push waits for room).
  let dueUntil = 0;
  let draining: Promise<void> | null = null;

  const size = () => queue.length + inFlight;

  function cancelTimer(): void {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
  }

  /** Partial batches become due up to line number `until`. */
  function due(until: number): void {
    dueUntil = Math.max(dueUntil, until);
    kick();
  }

  function onTimer(): void {
    timer = null;
    due(sent + queue.length);
  }

  function kick(): void {
    if (draining) return; // the running loop looks at the queue again before it stops
    if (queue.length >= batchSize || (queue.length > 0 && sent < dueUntil)) {
      draining = drain();
    } else if (queue.length > 0 && timer === null) {
      timer = timers.setTimeout(onTimer, flushIntervalMs);
    }
  }

  function settle(batch: Entry[], { rejected, errors }: { rejected: boolean[]; errors?: (Error | undefined)[] }): void {
    batch.forEach((entry, i) => {
      const t = entry.state;
      if (rejected[i]) t.rejected.push({ index: entry.index, ...(errors?.[i] ? { error: errors[i] } : {}) });
      if (--t.remaining === 0) {
        t.rejected.sort((a, b) => a.index - b.index);
        t.resolve({ rejected: t.rejected.length, lines: t.rejected });
      }
    });
  }

  async function drain(): Promise<void> {
    while (queue.length >= batchSize || (queue.length > 0 && sent < dueUntil)) {
      const batch = queue.splice(0, batchSize);
      inFlight = batch.length;
      sent += batch.length;
      if (queue.length === 0) cancelTimer();
      try {
        settle(batch, await deliver(batch.map((e) => e.line)));
      } catch (err) {
        // deliver only throws on a defect (transient failures are retried inside it); the
        // callers of these lines must not treat them as durable.
        new Set(batch.map((e) => e.state)).forEach((t) => t.reject(err));
      }
      inFlight = 0;
      roomWaiter?.();
    }
    draining = null;
    kick();
  }

  function waitForRoom(): Promise<void> {
    // A full buffer is delivered now rather than when the timer fires.
    due(sent + queue.length);
    return new Promise((resolve) => {
      roomWaiter = () => {
        roomWaiter = null;
        resolve();
      };
    });
  }

  async function admit(lines: readonly string[], state: PushState): Promise<void> {
    let next = 0;
    while (next < lines.length) {
      const room = maxBufferPoints - size();
      if (room <= 0) {
        await waitForRoom();
        continue;
      }
      const end = Math.min(lines.length, next + room);
      for (; next < end; next++) queue.push({ line: lines[next], index: next, state });
      kick();
    }
  }

  async function flush(): Promise<void> {
    if (size() === 0 && pendingAdmissions === 0) return;
    due(pushed);
    // Batches settle in order, so the last push settling means every earlier one has.
    await lastDone;
  }

  return {
    push(lines) {
      if (lines.length === 0) return Promise.resolve({ rejected: 0, lines: [] });
      let state!: PushState;
      const done = new Promise<PushResult>((resolve, reject) => {
        state = { remaining: lines.length, rejected: [], resolve, reject };
      });
      lastDone = done.catch(() => undefined);
      pushed += lines.length;
      if (pendingAdmissions === 0 && maxBufferPoints - size() >= lines.length) {
        // Room now and nobody waiting: buffer at once, so the lines are queued when push returns.
        lines.forEach((line, index) => queue.push({ line, index, state }));
        kick();
        return done;
      }
      pendingAdmissions++;
      admission = admission.then(() => admit(lines, state)).finally(() => pendingAdmissions--);
      return done;
    },
    flush,
    async close() {
      due(Infinity); // also covers pushes that race with close
      await flush();
      cancelTimer();
    },
    get size() {
      return size();
    },
  };
}
