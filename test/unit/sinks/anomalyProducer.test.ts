import type { Kafka, ProducerRecord } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { SinkError } from '../../../src/errors.ts';
import { createAnomalyProducer } from '../../../src/sinks/anomalyProducer.ts';
import type { AnomalyEvent } from '../../../src/types.ts';
import { anomalyEvent } from './fixtures.ts';
import { recordingLogger } from './helpers/manual.ts';

/** A kafkajs stand-in that records what is sent and can fail the next send. */
function fakeKafka() {
  const sent: ProducerRecord[] = [];
  const calls: string[] = [];
  let failWith: unknown = null;
  const producer = {
    connect: async () => void calls.push('connect'),
    disconnect: async () => void calls.push('disconnect'),
    send: async (record: ProducerRecord) => {
      if (failWith) {
        const err = failWith;
        failWith = null;
        throw err;
      }
      sent.push(record);
      return [];
    },
  };
  const kafka = { producer: () => producer } as unknown as Kafka;
  return { kafka, sent, calls, failNext: (err: unknown) => (failWith = err) };
}

const encode = (e: AnomalyEvent) => Buffer.from(JSON.stringify({ id: e.eventId }));

describe('createAnomalyProducer', () => {
  it('sends each event keyed by entity with acks -1 and the id, kind and state headers', async () => {
    const k = fakeKafka();
    const p = createAnomalyProducer({ kafka: k.kafka, topic: 'anomalies', encode, log: recordingLogger() });
    await p.connect();
    const events = [anomalyEvent(), anomalyEvent({ entityId: 'fan-2', eventId: 'e2', state: 'resolved', kind: 'drift' })];
    await p.send(events);
    expect(k.sent).toHaveLength(1);
    const record = k.sent[0];
    expect(record.topic).toBe('anomalies');
    expect(record.acks).toBe(-1);
    expect(record.messages.map((m) => m.key)).toEqual(['pump-7', 'fan-2']);
    expect(record.messages.map((m) => m.headers)).toEqual([
      { 'event-id': 'a687cb479c768c350bb4f8618d30f4f1', kind: 'score', state: 'open' },
      { 'event-id': 'e2', kind: 'drift', state: 'resolved' },
    ]);
    expect(record.messages[0].value).toEqual(encode(events[0]));
    // No timestamp: the client stamps the produce time, never the event's (past) time.
    expect(record.messages.map((m) => m.timestamp)).toEqual([undefined, undefined]);
  });

  it('sends nothing for an empty list', async () => {
    const k = fakeKafka();
    const p = createAnomalyProducer({ kafka: k.kafka, topic: 't', encode, log: recordingLogger() });
    await p.connect();
    await p.send([]);
    expect(k.sent).toHaveLength(0);
  });

  it('turns a kafkajs failure into a SinkError that keeps its retriable flag', async () => {
    const k = fakeKafka();
    const log = recordingLogger();
    const p = createAnomalyProducer({ kafka: k.kafka, topic: 't', encode, log });
    await p.connect();
    k.failNext(Object.assign(new Error('Request timed out'), { retriable: true }));
    const err = await p.send([anomalyEvent()]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SinkError);
    expect(err).toMatchObject({ code: 'SINK_UNAVAILABLE', retriable: true, coords: { sink: 'kafka', batchSize: 1 } });
    k.failNext(Object.assign(new Error('too big'), { retriable: false, type: 'MESSAGE_TOO_LARGE' }));
    await expect(p.send([anomalyEvent()])).rejects.toMatchObject({ code: 'SINK_TOO_LARGE', retriable: false });
    expect(log.records.filter((r) => r.level === 'error')).toHaveLength(2);
  });

  it('refuses to send before connect and after disconnect', async () => {
    const k = fakeKafka();
    const p = createAnomalyProducer({ kafka: k.kafka, topic: 't', encode, log: recordingLogger() });
    await expect(p.send([anomalyEvent()])).rejects.toMatchObject({ code: 'SINK_UNAVAILABLE', retriable: false });
    await p.connect();
    await p.disconnect();
    await expect(p.send([anomalyEvent()])).rejects.toMatchObject({ code: 'SINK_CLOSED' });
    expect(k.calls).toEqual(['connect', 'disconnect']);
  });
});
