/**
 * Synthetic telemetry for the end-to-end benchmark: E entities of C channels, each channel a
 * sine of its own period (in readings) with the entity's phase, plus Gaussian noise, so that
 * every scorer sees a signal with structure. The signal advances one step per reading of the
 * entity, whatever the clock says, so the live phase looks like the backlog it was trained and
 * calibrated on, at any rate.
 *
 * Readings carry their production time as event time: a reading made now has timestamp now, so a
 * score point's timestamp, which is its window's newest reading, says when that reading was
 * produced. A backlog is stamped in the past, one second apart per entity, ending before now.
 */
import type { Message } from 'kafkajs';
import { encodeReading } from '../../src/ingest/codec/index.ts';
import { gaussians, mulberry32 } from '../../src/random.ts';
import type { SensorReading } from '../../src/types.ts';

export interface LoadShape {
  entities: number;
  channels: number;
  seed: number;
}

/** Value added to channel 0 of an injected reading: about 20 noise-free amplitudes, far outside the normal range. */
export const SPIKE = 20;

export class LoadGenerator {
  readonly entityIds: string[];
  readonly channelNames: string[];
  private readonly lastTs: Float64Array;
  /** Readings made so far, per entity: the signal's phase. */
  private readonly steps: Float64Array;
  private readonly rand: () => number;
  private readonly periods: number[];
  private next = 0;
  private readonly spiking = new Map<number, number>();

  constructor(readonly shape: LoadShape) {
    this.entityIds = Array.from({ length: shape.entities }, (_, e) => `machine-${String(e).padStart(5, '0')}`);
    this.channelNames = Array.from({ length: shape.channels }, (_, c) => `c${String(c).padStart(2, '0')}`);
    this.lastTs = new Float64Array(shape.entities).fill(-Infinity);
    this.steps = new Float64Array(shape.entities);
    this.rand = mulberry32(shape.seed);
    this.periods = this.channelNames.map((_, c) => 60 + 17 * c); // points per cycle, distinct per channel
  }

  /** Entity e's next reading, stamped t (ms); `spike` adds SPIKE to channel 0. */
  reading(e: number, t: number, spike = false): SensorReading {
    const step = this.steps[e]++;
    const values: Record<string, number> = {};
    const phase = (2 * Math.PI * e) / Math.max(1, this.shape.entities);
    const noise = gaussians(this.rand, this.shape.channels);
    for (let c = 0; c < this.shape.channels; c++) {
      values[this.channelNames[c]] = Math.sin((2 * Math.PI * step) / this.periods[c] + phase) + 0.05 * noise[c] + (spike && c === 0 ? SPIKE : 0);
    }
    return { entityId: this.entityIds[e], timestamp: t, values };
  }

  message(r: SensorReading): Message {
    return { key: r.entityId, value: encodeReading(r, 'avro') };
  }

  /** The backlog: `perEntity` readings of every entity, 1 s apart, the newest at `endMs`, in time order across entities. */
  *backlog(perEntity: number, endMs: number): Generator<Message> {
    for (let i = perEntity - 1; i >= 0; i--) {
      const t = endMs - i * 1000;
      for (let e = 0; e < this.shape.entities; e++) {
        this.lastTs[e] = t;
        yield this.message(this.reading(e, t));
      }
    }
  }

  /** Entity e's next `count` live readings are spiked (channel 0 + SPIKE). */
  inject(e: number, count: number): void {
    this.spiking.set(e, count);
  }

  /**
   * The next live reading, round-robin over the entities, stamped now. Its timestamp is bumped
   * to 1 ms after the entity's previous one when the clock has not moved, so that no two
   * readings of one entity share a timestamp (the caller keeps an entity's rate under 1 kHz).
   */
  live(nowMs: number): { entity: number; reading: SensorReading; spiked: boolean } {
    const e = this.next;
    this.next = (this.next + 1) % this.shape.entities;
    const left = this.spiking.get(e) ?? 0;
    if (left > 1) this.spiking.set(e, left - 1);
    else this.spiking.delete(e);
    const t = Math.max(nowMs, this.lastTs[e] + 1);
    this.lastTs[e] = t;
    return { entity: e, reading: this.reading(e, t, left > 0), spiked: left > 0 };
  }
}
