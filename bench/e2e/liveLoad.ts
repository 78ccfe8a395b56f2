/**
 * The live phase's load: readings produced at a fixed total rate, stamped with their production
 * time, round-robin over the entities, with anomalies injected at known times. The producer
 * sends whatever is due every few ms, one request in flight at a time, as a telemetry gateway
 * batching its sensors would.
 */
import type { Message, Producer } from 'kafkajs';
import type { LoadGenerator } from './loadGenerator.ts';

export interface LiveLoadOptions {
  topic: string;
  /** Readings per second, all entities together. */
  rate: number;
  seconds: number;
  /** ms between two injected anomalies (each on the next entity in turn); 0: none. */
  injectEveryMs: number;
  /** Consecutive readings of the entity that carry the spike. */
  spikeReadings: number;
}

export interface LiveLoad {
  produced: number;
  /** Wall-clock (= event) time of the first and last reading produced. */
  firstMs: number;
  lastMs: number;
  /** Per entity, the timestamps of the first spiked reading of each injection. */
  injections: Map<string, number[]>;
  /** Per producer request, its oldest reading's stamp → the broker's acknowledgement, ms: the load side's own delay. */
  brokerAckMs: number[];
}

/** How often the generator wakes to produce what is due. */
const TICK_MS = 5;

export async function produceLive(gen: LoadGenerator, producer: Producer, o: LiveLoadOptions): Promise<LiveLoad> {
  const injections = new Map<string, number[]>();
  const out: LiveLoad = { produced: 0, firstMs: Date.now(), lastMs: 0, injections, brokerAckMs: [] };
  const t0 = performance.now();
  const endMs = o.seconds * 1000;
  let nextInject = o.injectEveryMs > 0 ? o.injectEveryMs : Infinity;
  let injectEntity = 0;
  let pendingInjection: number | undefined;
  for (;;) {
    const elapsed = performance.now() - t0;
    if (elapsed >= endMs) break;
    if (elapsed >= nextInject) {
      pendingInjection = injectEntity;
      gen.inject(injectEntity, o.spikeReadings);
      injectEntity = (injectEntity + 1) % gen.shape.entities;
      nextInject += o.injectEveryMs;
    }
    const due = Math.floor((o.rate * elapsed) / 1000) - out.produced;
    const messages: Message[] = [];
    const oldest = Date.now();
    for (let i = 0; i < due; i++) {
      const { entity, reading, spiked } = gen.live(Date.now());
      if (spiked && entity === pendingInjection) {
        const list = injections.get(reading.entityId) ?? [];
        list.push(reading.timestamp);
        injections.set(reading.entityId, list);
        pendingInjection = undefined;
      }
      messages.push(gen.message(reading));
      out.lastMs = reading.timestamp;
    }
    if (messages.length > 0) {
      await producer.send({ topic: o.topic, acks: -1, messages });
      out.brokerAckMs.push(Date.now() - oldest);
      out.produced += messages.length;
    }
    const wait = TICK_MS - ((performance.now() - t0) % TICK_MS);
    await new Promise((res) => setTimeout(res, wait));
  }
  return out;
}
