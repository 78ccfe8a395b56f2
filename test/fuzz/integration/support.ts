/** Helpers of the integration fuzz test: read a whole topic, and the run's final metrics from its log. */
import type { Kafka, KafkaMessage } from 'kafkajs';
import { uniqueName, waitUntil } from '../../integration/helpers.ts';

/** Every message of `topic` (all partitions), read until the count reaches the log-end offsets. */
export async function readAll(kafka: Kafka, topic: string): Promise<KafkaMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  const out: KafkaMessage[] = [];
  if (total === 0) return out;
  const consumer = kafka.consumer({ groupId: uniqueName('fuzz-reader') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void out.push(message) });
  await waitUntil(() => out.length >= total, { timeoutMs: 30_000, what: `${total} messages of ${topic}` });
  await consumer.disconnect();
  return out;
}

/** The metrics snapshot the service logs when it stops (src/service/pipeline.ts). */
export function stoppedMetrics(stderr: string): Record<string, number> {
  for (const line of stderr.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      const rec = JSON.parse(line) as { msg?: string; metrics?: Record<string, number> };
      if (rec.msg === 'stopped' && rec.metrics) return rec.metrics;
    } catch {
      // not a log line
    }
  }
  throw new Error('no "stopped" log record with metrics');
}
