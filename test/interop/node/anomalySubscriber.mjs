// A subscriber of diffwatch's `anomalies` topic: kafkajs and avsc.
// Prints one JSON line per message and drops redeliveries by `eventId`; stops once it has read
// every partition up to its end (a real subscriber would keep running).
//
// Usage: node anomalySubscriber.mjs <bootstrap> <topic> <group id> <schemas/anomaly-event.avsc>
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { Kafka, logLevel } from 'kafkajs';

const [bootstrap, topic, groupId, schemaPath] = process.argv.slice(2);
const type = avro.Type.forSchema(JSON.parse(readFileSync(schemaPath, 'utf8')));
const kafka = new Kafka({ brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });
const seen = new Set(); // delivery is at least once: keep the ids already handled

// Where each partition ends now, and how far it has been read (from its log start).
const admin = kafka.admin();
await admin.connect();
const offsets = await admin.fetchTopicOffsets(topic);
await admin.disconnect();
const end = new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
const readTo = new Map(offsets.map((p) => [p.partition, BigInt(p.low)]));

const consumer = kafka.consumer({ groupId });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
await new Promise((caughtUp, failed) => {
  const check = () => [...end].every(([p, e]) => readTo.get(p) >= e) && caughtUp();
  consumer.run({
    eachMessage: async ({ partition, message }) => {
      const event = type.fromBuffer(message.value);
      const duplicate = seen.has(event.eventId);
      seen.add(event.eventId);
      // state: open | ongoing | resolved; key = entityId; message.timestamp = when it was produced
      const line = { key: message.key.toString(), timestamp: Number(message.timestamp), duplicate, event };
      console.log(JSON.stringify(line));
      readTo.set(partition, BigInt(message.offset) + 1n);
      check();
    },
  }).catch(failed);
  check();
});
await consumer.disconnect();
