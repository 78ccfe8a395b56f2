/**
 * The dead-letter publisher: a message that cannot become a reading goes to `<topic><suffix>`
 * with its original key and value, and headers that say where it came from and why.
 * Dead letters never stall a partition: the caller releases the message once this resolves.
 *
 * A message refused for its size (`MESSAGE_TOO_LARGE`) is not copied whole: its dead letter holds
 * the first `maxValueBytes` of its value and `dlq.original.bytes`, the full size. The dead-letter
 * topic then needs no larger message limit than the service accepts, and a producer cannot make
 * the service hold and resend megabytes per message; the whole value stays readable in the source
 * topic, at the coordinates in the headers, for as long as that topic retains it.
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
  /** Bytes of the original value, on a dead letter that holds only its first part. */
  originalBytes: 'dlq.original.bytes',
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

/** The value a dead letter carries: a `MESSAGE_TOO_LARGE` one cut to `maxBytes`, with its full size. */
function letterValue(l: DeadLetter, maxBytes: number): { value: Buffer | string | null; originalBytes?: number } {
  if (l.error.code !== 'MESSAGE_TOO_LARGE' || l.value === null) return { value: l.value };
  const bytes = Buffer.isBuffer(l.value) ? l.value : Buffer.from(l.value, 'utf8');
  if (bytes.length <= maxBytes) return { value: l.value };
  // A copy: a slice would keep the whole fetched value alive until the producer is done with it.
  return { value: Buffer.from(bytes.subarray(0, maxBytes)), originalBytes: bytes.length };
}

/**
 * @param opts.maxValueBytes bytes of a `MESSAGE_TOO_LARGE` value kept in its dead letter (the service passes `ingest.maxMessageBytes`); default: all of it
 */
export function createDeadLetterPublisher(opts: { producer: Producer; suffix: string; log: Logger; metrics: Metrics; now?: () => number; maxValueBytes?: number }): DeadLetterPublisher {
  const now = opts.now ?? Date.now;
  const maxValueBytes = opts.maxValueBytes ?? Infinity;
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
          messages: ls.map((l) => {
            const { value, originalBytes } = letterValue(l, maxValueBytes);
            const headers: IHeaders = {
              ...originalHeaders(l.headers),
              [DLQ_HEADERS.topic]: l.source.topic,
              [DLQ_HEADERS.partition]: String(l.source.partition),
              [DLQ_HEADERS.offset]: l.source.offset,
              [DLQ_HEADERS.code]: l.error.code,
              [DLQ_HEADERS.message]: l.error.message,
              ...(typeof l.error.coords.field === 'string' ? { [DLQ_HEADERS.field]: l.error.coords.field } : {}),
              [DLQ_HEADERS.failedAt]: failedAt,
              ...(originalBytes === undefined ? {} : { [DLQ_HEADERS.originalBytes]: String(originalBytes) }),
            };
            return { key: l.key, value, headers };
          }),
        })),
      });
      for (const l of letters) {
        opts.metrics.inc(METRICS.deadLettered, 1, { code: l.error.code });
        opts.log.warn('message dead-lettered', { ...l.source, code: l.error.code, error: l.error.message, field: l.error.coords.field });
      }
    },
  };
}
