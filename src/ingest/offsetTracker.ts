/**
 * Per-partition watermarks for at-least-once delivery.
 *
 * Every message fetched from a partition is held until the pipeline says it is done
 * (its windows are durable in every sink, it went to the dead-letter topic, or it was
 * discarded on purpose). The committable offset of a partition is the oldest offset
 * still held; with nothing held it is one past the newest offset seen. Readings parked
 * in an open window therefore hold the commit back, so a crash re-reads them and the
 * window is rebuilt (facts.md, "A window spans many messages and batches").
 */
import type { SourceCoord } from '../types.ts';

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Done offsets at the head of a partition's arrays before they are compacted away. */
const COMPACT_FROM = 256;

/** The held messages of one partition, in fetch (= offset) order. */
class PartitionHolds {
  /** Offsets in arrival order; `done[i]` says whether offsets[i] was released. */
  private offsets: bigint[] = [];
  private done: boolean[] = [];
  private index = new Map<string, number>();
  private head = 0;
  private highest: bigint | null = null;
  pending = 0;

  hold(offset: string): void {
    const o = BigInt(offset);
    // A re-delivery (kafkajs after a retry or a seek) of something already held or already
    // done: keep the original hold. Holds must stay in offset order for `committable`.
    if (this.highest !== null && o <= this.highest) return;
    this.index.set(offset, this.offsets.length);
    this.offsets.push(o);
    this.done.push(false);
    this.pending++;
    if (this.highest === null || o > this.highest) this.highest = o;
  }

  /** True when the offset was handed over before (it is held, or done). */
  seen(offset: string): boolean {
    return this.highest !== null && BigInt(offset) <= this.highest;
  }

  /** Returns false when the offset was not held (already released, or never seen). */
  release(offset: string): boolean {
    const i = this.index.get(offset);
    if (i === undefined || this.done[i]) return false;
    this.done[i] = true;
    this.index.delete(offset);
    this.pending--;
    this.advance();
    return true;
  }

  /** Slots the arrays keep: the held offsets plus the done ones not compacted away yet. */
  get slots(): number {
    return this.offsets.length;
  }

  private advance(): void {
    while (this.head < this.offsets.length && this.done[this.head]) this.head++;
    // Compact once the done prefix is most of the arrays (amortised O(1) per message) and past
    // COMPACT_FROM. A larger floor made a slow partition's arrays climb for many minutes before
    // each compaction (4,096 offsets: 17 minutes at 4 messages/s), which a soak reads as growth.
    if (this.head > COMPACT_FROM && this.head * 2 > this.offsets.length) {
      this.offsets = this.offsets.slice(this.head);
      this.done = this.done.slice(this.head);
      this.index = new Map([...this.index].map(([k, v]) => [k, v - this.head]));
      this.head = 0;
    }
  }

  /** The offset to commit (the next one to read after a restart), or null if nothing was seen. */
  committable(): string | null {
    if (this.head < this.offsets.length) return this.offsets[this.head].toString();
    return this.highest === null ? null : (this.highest + 1n).toString();
  }
}

export interface PartitionWatermark {
  topic: string;
  partition: number;
  /** Offset to commit: every message before it is done. */
  offset: string;
  /** Messages still held in this partition. */
  pending: number;
}

export class OffsetTracker {
  private partitions = new Map<string, { topic: string; partition: number; holds: PartitionHolds }>();

  private get(topic: string, partition: number): PartitionHolds {
    const k = key(topic, partition);
    let p = this.partitions.get(k);
    if (!p) {
      p = { topic, partition, holds: new PartitionHolds() };
      this.partitions.set(k, p);
    }
    return p.holds;
  }

  /** Register a fetched message. Messages of one partition must be held in offset order. */
  hold(c: SourceCoord): void {
    this.get(c.topic, c.partition).hold(c.offset);
  }

  /**
   * True when this message was registered before: kafkajs re-reads every partition it keeps
   * across a rebalance from the committed offset, and what comes again is already in the pipeline or done.
   */
  seen(c: SourceCoord): boolean {
    return this.partitions.get(key(c.topic, c.partition))?.holds.seen(c.offset) ?? false;
  }

  /** Mark a message done. Releasing twice, or a message of a dropped partition, is a no-op. */
  release(c: SourceCoord): boolean {
    const p = this.partitions.get(key(c.topic, c.partition));
    return p ? p.holds.release(c.offset) : false;
  }

  releaseAll(cs: Iterable<SourceCoord>): void {
    for (const c of cs) this.release(c);
  }

  pending(topic: string, partition: number): number {
    return this.partitions.get(key(topic, partition))?.holds.pending ?? 0;
  }

  /** Forget a partition (it was revoked): its messages will be re-read by its next owner. */
  drop(topic: string, partition: number): void {
    this.partitions.delete(key(topic, partition));
  }

  /** Array slots kept over every partition: bounded by what is held plus the compaction floor. */
  slots(): number {
    let n = 0;
    for (const { holds } of this.partitions.values()) n += holds.slots;
    return n;
  }

  watermarks(): PartitionWatermark[] {
    const out: PartitionWatermark[] = [];
    for (const { topic, partition, holds } of this.partitions.values()) {
      const offset = holds.committable();
      if (offset !== null) out.push({ topic, partition, offset, pending: holds.pending });
    }
    return out;
  }
}
