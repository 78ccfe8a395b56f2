/**
 * Backpressure for Kafka, because RxJS has none (ReactiveX/rxjs#71): count the work in
 * flight per partition, pause a partition when it passes the high-water mark and resume
 * it when it falls below the low-water mark.
 *
 * "Work in flight" is windows emitted to the scorer and sinks and not yet acknowledged.
 * Readings parked in an open window are not counted: they are state, bounded by the window
 * length per entity, and counting them could pause a partition whose windows can only
 * complete with more input (a deadlock).
 */
export interface PartitionRef {
  topic: string;
  partition: number;
}

export interface FlowControlOptions {
  highWaterMark: number;
  lowWaterMark: number;
  pause(p: PartitionRef): void;
  resume(p: PartitionRef): void;
}

export class FlowControl {
  private counts = new Map<string, { ref: PartitionRef; n: number; paused: boolean }>();
  private total = 0;

  constructor(private readonly opts: FlowControlOptions) {}

  private entry(ref: PartitionRef) {
    const k = `${ref.topic}\u0000${ref.partition}`;
    let e = this.counts.get(k);
    if (!e) {
      e = { ref: { topic: ref.topic, partition: ref.partition }, n: 0, paused: false };
      this.counts.set(k, e);
    }
    return e;
  }

  begin(ref: PartitionRef, n = 1): void {
    const e = this.entry(ref);
    e.n += n;
    this.total += n;
    if (!e.paused && e.n > this.opts.highWaterMark) {
      e.paused = true;
      this.opts.pause(e.ref);
    }
  }

  end(ref: PartitionRef, n = 1): void {
    const e = this.counts.get(`${ref.topic}\u0000${ref.partition}`);
    if (!e) return; // the partition was dropped (revoked) while its work was in flight
    const d = Math.min(n, e.n);
    e.n -= d;
    this.total -= d;
    if (e.paused && e.n < this.opts.lowWaterMark) {
      e.paused = false;
      this.opts.resume(e.ref);
    }
  }

  isPaused(ref: PartitionRef): boolean {
    return this.counts.get(`${ref.topic}\u0000${ref.partition}`)?.paused ?? false;
  }

  anyPaused(): boolean {
    for (const e of this.counts.values()) if (e.paused) return true;
    return false;
  }

  /** Forget a revoked partition. */
  drop(ref: PartitionRef): void {
    const k = `${ref.topic}\u0000${ref.partition}`;
    const e = this.counts.get(k);
    if (e) this.total -= e.n;
    this.counts.delete(k);
  }

  inFlight(ref?: PartitionRef): number {
    if (!ref) return this.total;
    return this.counts.get(`${ref.topic}\u0000${ref.partition}`)?.n ?? 0;
  }
}
