"""A subscriber of diffwatch's `anomalies` topic: confluent-kafka (librdkafka) and fastavro.

Prints one JSON line per message and drops redeliveries by `eventId`; stops once it has read
every partition up to its end (a real subscriber would poll for ever).

Usage: python anomaly_subscriber.py <bootstrap> <topic> <group id> <schemas/anomaly-event.avsc>
"""
import io
import json
import sys

import fastavro
from confluent_kafka import Consumer


def caught_up(consumer):
    """Every assigned partition has been read up to its current end offset."""
    assigned = consumer.assignment()
    for p in consumer.position(assigned):
        start, end = consumer.get_watermark_offsets(p)
        read_to = p.offset if p.offset >= 0 else start  # nothing read yet: at the log start
        if read_to < end:
            return False
    return bool(assigned)


def millis(value):
    """fastavro reads timestamp-millis as an aware datetime."""
    return round(value.timestamp() * 1000)


bootstrap, topic, group, schema_path = sys.argv[1:5]
with open(schema_path) as f:
    schema = fastavro.parse_schema(json.load(f))
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest"})
consumer.subscribe([topic])
seen = set()  # delivery is at least once: keep the ids already handled

while True:
    msg = consumer.poll(0.5)
    if msg is None:
        if caught_up(consumer):  # for the test: a real subscriber keeps polling
            break
        continue
    if msg.error():
        raise SystemExit(f"consume failed: {msg.error()}")
    event = fastavro.schemaless_reader(io.BytesIO(msg.value()), schema)
    duplicate = event["eventId"] in seen
    seen.add(event["eventId"])
    # state: open | ongoing | resolved; key = entityId; msg.timestamp() = when it was produced
    print(json.dumps({"key": msg.key().decode(), "timestamp": msg.timestamp()[1], "duplicate": duplicate, "event": event}, default=millis), flush=True)
consumer.close()
