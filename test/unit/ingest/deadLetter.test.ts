import type { Producer, ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { IngestError } from '../../../src/errors.ts';
import { createDeadLetterPublisher, DLQ_HEADERS } from '../../../src/ingest/deadLetter.ts';
import { rootLogger } from '../../../src/log.ts';
import { Metrics } from '../../../src/metrics.ts';

function capture() {
  const batches: ProducerBatch[] = [];
  const producer = { sendBatch: async (b: ProducerBatch) => void batches.push(b) } as unknown as Producer;
  const publisher = createDeadLetterPublisher({ producer, suffix: '.dlq', log: rootLogger.namespace('test'), metrics: new Metrics(), now: () => 7 });
  return { batches, publisher };
}

describe('createDeadLetterPublisher', () => {
  it('keeps the original key, value and headers byte for byte, hostile text included', async () => {
    const { batches, publisher } = capture();
    const source = { topic: 'tel', partition: 1, offset: '9' };
    const key = Buffer.from('a\nb\u0000c', 'utf8');
    const error = new IngestError('RECORD_INVALID', 'entityId: entity id "a\\u{a}b" contains U+000A', source, 'entityId');
    await publisher.publish([{ source, key, value: Buffer.from('{}'), headers: { trace: Buffer.from('x\r\ny') }, error }]);
    const m = batches[0].topicMessages![0].messages[0];
    expect(batches[0].topicMessages![0].topic).toBe('tel.dlq');
    expect(m.key).toEqual(key);
    expect(m.headers).toMatchObject({ trace: Buffer.from('x\r\ny'), [DLQ_HEADERS.code]: 'RECORD_INVALID', [DLQ_HEADERS.field]: 'entityId' });
  });

  it('drops original headers that use the dlq. names, so a producer cannot forge the error it reports', async () => {
    const { batches, publisher } = capture();
    const source = { topic: 'tel', partition: 0, offset: '1' };
    const forged = { [DLQ_HEADERS.field]: 'values.temp', [DLQ_HEADERS.code]: 'LATE_RECORD', 'dlq.other': 'x', keep: 'y' };
    await publisher.publish([{ source, key: null, value: null, headers: forged, error: new IngestError('DECODE_FAILED', 'bad', source) }]);
    const h = batches[0].topicMessages![0].messages[0].headers!;
    expect(h[DLQ_HEADERS.code]).toBe('DECODE_FAILED');
    expect(h).not.toHaveProperty(DLQ_HEADERS.field);
    expect(h).not.toHaveProperty('dlq.other');
    expect(h.keep).toBe('y');
  });
});
