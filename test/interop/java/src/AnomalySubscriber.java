import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A subscriber of diffwatch's `anomalies` topic: the official Kafka consumer and Apache Avro.
 * Prints one JSON line per message and drops redeliveries by `eventId`; stops once it has read
 * every partition up to its end (a real subscriber would poll for ever).
 *
 * Usage: java AnomalySubscriber <bootstrap> <topic> <group id> <schemas/anomaly-event.avsc>
 */
public class AnomalySubscriber {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, args[2]);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    Schema schema = new Schema.Parser().parse(Path.of(args[3]).toFile());
    GenericDatumReader<GenericRecord> reader = new GenericDatumReader<>(schema);
    Set<String> seen = new HashSet<>(); // delivery is at least once: keep the ids already handled

    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(List.of(args[1]));
      do {
        for (ConsumerRecord<String, byte[]> rec : consumer.poll(Duration.ofMillis(500))) {
          GenericRecord event = reader.read(null, DecoderFactory.get().binaryDecoder(rec.value(), null));
          boolean duplicate = !seen.add(event.get("eventId").toString());
          // state: open | ongoing | resolved; key = entityId; rec.timestamp() = when it was produced
          System.out.printf("{\"key\":\"%s\",\"timestamp\":%d,\"duplicate\":%b,\"event\":%s}%n",
              rec.key(), rec.timestamp(), duplicate, event);
        }
      } while (!caughtUp(consumer));
    }
  }

  /** Every assigned partition has been read up to its current end offset. */
  static boolean caughtUp(KafkaConsumer<String, byte[]> consumer) {
    Set<TopicPartition> assigned = consumer.assignment();
    if (assigned.isEmpty()) return false;
    Map<TopicPartition, Long> ends = consumer.endOffsets(assigned);
    return assigned.stream().allMatch(tp -> consumer.position(tp) >= ends.get(tp));
  }
}
