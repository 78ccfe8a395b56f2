import type { Producer, ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { IngestError } from '../../../src/errors.ts';
import { createDeadLetterPublisher, DLQ_HEADERS } from '../../../src/ingest/deadLetter.ts';
import { rootLogger } from '../../../src/log.ts';
import { Metrics } from '../../../src/metrics.ts';

function capture(maxValueBytes?: number) {
  const batches: ProducerBatch[] = [];
  const producer = { sendBatch: async (b: ProducerBatch) => void batches.push(b) } as unknown as Producer;
  const publisher = createDeadLetterPublisher({ producer, suffix: '.dlq', log: rootLogger.namespace('test'), metrics: new Metrics(), now: () => 7, maxValueBytes });
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

  it('keeps the first maxValueBytes of a message refused for its size, and its full size in a header', async () => {
    const { batches, publisher } = capture(64);
    const source = { topic: 'tel', partition: 2, offset: '5' };
    const big = Buffer.alloc(10 * 1024 * 1024, 0x61);
    const small = Buffer.alloc(100, 0x62);
    await publisher.publish([
      { source, key: 'k', value: big, error: new IngestError('MESSAGE_TOO_LARGE', `message of ${big.length} bytes exceeds ingest.maxMessageBytes=64`, source) },
      { source, key: 'k', value: small, error: new IngestError('DECODE_FAILED', 'bad', source) },
    ]);
    const [cut, whole] = batches[0].topicMessages![0].messages;
    expect(cut.value).toEqual(big.subarray(0, 64));
    expect(cut.headers).toMatchObject({ [DLQ_HEADERS.code]: 'MESSAGE_TOO_LARGE', [DLQ_HEADERS.originalBytes]: String(big.length), [DLQ_HEADERS.offset]: '5' });
    // Only a size refusal is cut: any other dead letter keeps its value byte for byte.
    expect(whole.value).toBe(small);
    expect(whole.headers).not.toHaveProperty(DLQ_HEADERS.originalBytes);
  });
});
