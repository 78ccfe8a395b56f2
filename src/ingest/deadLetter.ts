/**
 * The dead-letter publisher: a message that cannot become a reading goes to `<topic><suffix>`
 * with its original key and value, and headers that say where it came from and why.
 * Dead letters never stall a partition: the caller releases the message once this resolves.
 */
import type { IHeaders, Producer } from 'kafkajs';
import type { DiffwatchError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { METRICS, type Metrics } from '../metrics.ts';
import type { SourceCoord } from '../types.ts';

export const DLQ_HEADERS = {
  topic: 'dlq.original.topic',
  partition: 'dlq.original.partition',
  offset: 'dlq.original.offset',
  code: 'dlq.error.code',
  message: 'dlq.error.message',
  field: 'dlq.error.field',
  failedAt: 'dlq.first.failure.time',
} as const;

export interface DeadLetter {
  source: SourceCoord;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: IHeaders;
  error: DiffwatchError;
}

export interface DeadLetterPublisher {
  publish(letters: readonly DeadLetter[]): Promise<void>;
}

/**
 * The original headers, less any that use our `dlq.` names: a producer must not be able to
 * set the error code, field or coordinates a dead letter reports.
 */
function originalHeaders(headers: IHeaders | undefined): IHeaders {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([k]) => !k.startsWith('dlq.')));
}

export function deadLetterTopic(topic: string, suffix: string): string {
  return topic + suffix;
}

export function createDeadLetterPublisher(opts: { producer: Producer; suffix: string; log: Logger; metrics: Metrics; now?: () => number }): DeadLetterPublisher {
  const now = opts.now ?? Date.now;
  return {
    async publish(letters) {
      if (letters.length === 0) return;
      const byTopic = new Map<string, DeadLetter[]>();
      for (const l of letters) {
        const t = deadLetterTopic(l.source.topic, opts.suffix);
        byTopic.set(t, [...(byTopic.get(t) ?? []), l]);
      }
      const failedAt = String(now());
      await opts.producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, ls]) => ({
          topic,
          messages: ls.map((l) => ({
            key: l.key,
            value: l.value,
            headers: {
              ...originalHeaders(l.headers),
              [DLQ_HEADERS.topic]: l.source.topic,
              [DLQ_HEADERS.partition]: String(l.source.partition),
              [DLQ_HEADERS.offset]: l.source.offset,
              [DLQ_HEADERS.code]: l.error.code,
              [DLQ_HEADERS.message]: l.error.message,
              ...(typeof l.error.coords.field === 'string' ? { [DLQ_HEADERS.field]: l.error.coords.field } : {}),
              [DLQ_HEADERS.failedAt]: failedAt,
            },
          })),
        })),
      });
      for (const l of letters) {
        opts.metrics.inc(METRICS.deadLettered, 1, { code: l.error.code });
        opts.log.warn('message dead-lettered', { ...l.source, code: l.error.code, error: l.error.message, field: l.error.coords.field });
      }
    },
  };
}
