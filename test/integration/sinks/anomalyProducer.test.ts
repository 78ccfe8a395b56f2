/** The anomaly producer against the stack's Kafka: keys, headers and Avro payloads read back by a consumer. */
import type { KafkaMessage } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createAnomalyCodec } from '../../../src/ingest/codec/index.ts';
import { createAnomalyProducer } from '../../../src/sinks/anomalyProducer.ts';
import { anomalyEvent } from '../../unit/sinks/fixtures.ts';
import { createTopics, kafkaBrokers, kafkaClient, uniqueName } from '../helpers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('createAnomalyProducer against Kafka', () => {
  it('publishes events keyed by entity with event-id, kind and state headers, in order per entity', async () => {
    const topic = uniqueName('anomalies');
    await createTopics(kafkaBrokers(), [topic], 2);
    const codec = createAnomalyCodec();
    const producer = createAnomalyProducer({ kafka: kafkaClient(), topic, encode: codec.encode });
    await producer.connect();
    cleanups.push(() => producer.disconnect());

    const events = [
      anomalyEvent({ entityId: 'pump-7', eventId: 'e1', state: 'open' }),
      anomalyEvent({ entityId: 'fan-2', eventId: 'e2', state: 'open', kind: 'drift' }),
      anomalyEvent({ entityId: 'pump-7', eventId: 'e3', state: 'resolved', endTime: 1_700_000_070_000 }),
    ];
    await producer.send(events);

    const consumer = kafkaClient().consumer({ groupId: uniqueName('it-anomalies') });
    cleanups.push(() => consumer.disconnect());
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got: { partition: number; message: KafkaMessage }[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer.run({
        eachMessage: async ({ partition, message }) => {
          got.push({ partition, message });
          if (got.length === events.length) resolve();
        },
      }).catch(reject);
    });

    const byId = new Map(got.map((g) => [g.message.headers?.['event-id']?.toString(), g]));
    expect([...byId.keys()].sort()).toEqual(['e1', 'e2', 'e3']);
    for (const e of events) {
      const { message } = byId.get(e.eventId)!;
      expect(message.key?.toString()).toBe(e.entityId);
      expect(message.headers?.kind?.toString()).toBe(e.kind);
      expect(message.headers?.state?.toString()).toBe(e.state);
      expect(codec.decode(message.value!)).toEqual(e);
    }
    // One key, one partition: the open and the resolve of pump-7 stay in order.
    expect(byId.get('e1')!.partition).toBe(byId.get('e3')!.partition);
    const pump = got.filter((g) => g.message.key?.toString() === 'pump-7').map((g) => g.message.headers?.['event-id']?.toString());
    expect(pump).toEqual(['e1', 'e3']);
  });
});
