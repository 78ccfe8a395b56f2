/**
 * Publishes alert events to the `anomalies` topic. `send` resolves only when every in-sync
 * replica has the events (acks -1), which is what lets the pipeline commit the source offsets.
 *
 * Key = entityId, so the events of one entity stay ordered in one partition. Headers carry the
 * deterministic `event-id` (consumers deduplicate on it after a replay), `kind` and `state`,
 * so routers can filter without decoding Avro.
 *
 * @example
 * const anomalies = createAnomalyProducer({ kafka, topic: 'anomalies', encode: codec.encode });
 * await anomalies.connect();
 * await anomalies.send(events);
 */
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { SinkError } from '../errors.ts';
import { rootLogger, type Logger } from '../log.ts';
import type { AnomalyEvent } from '../types.ts';

export const ANOMALY_SINK = 'kafka';

/** Header names on every alert event message. */
export const ANOMALY_HEADERS = { eventId: 'event-id', kind: 'kind', state: 'state' } as const;

export interface AnomalyProducerOptions {
  /** A kafkajs client; its `retry` settings govern how long a send retries before failing. */
  kafka: Kafka;
  topic: string;
  /** The anomaly-event codec (Avro). */
  encode: (e: AnomalyEvent) => Buffer;
  log?: Logger;
}

export interface AnomalyProducer {
  connect(): Promise<void>;
  /** Resolves when the broker acknowledged every event (acks -1). */
  send(events: readonly AnomalyEvent[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** The Kafka message of one alert event. */
export function anomalyMessage(e: AnomalyEvent, encode: (e: AnomalyEvent) => Buffer): Message {
  return {
    key: e.entityId,
    value: encode(e),
    headers: { [ANOMALY_HEADERS.eventId]: e.eventId, [ANOMALY_HEADERS.kind]: e.kind, [ANOMALY_HEADERS.state]: e.state },
    // No timestamp: kafkajs stamps the message with the time it is produced. An event time would
    // put a replayed or backfilled alert in the past, and time-based retention (measured from the
    // message timestamp) would delete it before subscribers read it. Event times are in the value.
  };
}

/** kafkajs errors carry `retriable` and, for broker answers, a protocol `type`. */
function toSinkError(err: unknown, topic: string, batchSize: number): SinkError {
  const e = err as { message?: string; retriable?: boolean; type?: string };
  const opts = { sink: ANOMALY_SINK, batchSize, retriable: e.retriable === true, cause: err };
  const message = `producing to ${topic} failed: ${e.message ?? String(err)}`;
  if (e.type === 'MESSAGE_TOO_LARGE' || e.type === 'RECORD_LIST_TOO_LARGE') return new SinkError('SINK_TOO_LARGE', message, opts);
  if (e.type === 'INVALID_RECORD' || e.type === 'CORRUPT_MESSAGE') return new SinkError('SINK_REJECTED', message, opts);
  return new SinkError('SINK_UNAVAILABLE', message, opts);
}

export function createAnomalyProducer({ kafka, topic, encode, log = rootLogger.namespace('sinks.anomalies') }: AnomalyProducerOptions): AnomalyProducer {
  let producer: Producer | null = null;
  let closed = false;

  return {
    async connect() {
      if (closed) throw new SinkError('SINK_CLOSED', 'the anomaly producer is disconnected', { sink: ANOMALY_SINK, retriable: false });
      if (producer) return;
      // Java's murmur2 partitioner: an entity's events land on the partition a Java producer would pick.
      const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await p.connect();
      producer = p;
      log.info('anomaly producer connected', { topic });
    },
    async send(events) {
      if (closed) throw new SinkError('SINK_CLOSED', 'the anomaly producer is disconnected', { sink: ANOMALY_SINK, batchSize: events.length, retriable: false });
      if (!producer) throw new SinkError('SINK_UNAVAILABLE', 'the anomaly producer is not connected; call connect() first', { sink: ANOMALY_SINK, batchSize: events.length, retriable: false });
      if (events.length === 0) return;
      const messages = events.map((e) => anomalyMessage(e, encode));
      try {
        await producer.send({ topic, acks: -1, messages });
      } catch (err) {
        const sinkErr = toSinkError(err, topic, events.length);
        log.error('anomaly events not delivered', { topic, batchSize: events.length, code: sinkErr.code, retriable: sinkErr.retriable, error: sinkErr.message });
        throw sinkErr;
      }
    },
    async disconnect() {
      closed = true;
      const p = producer;
      producer = null;
      if (p) await p.disconnect();
    },
  };
}
