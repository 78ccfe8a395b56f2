import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Produces sensor readings as a Java service would: the official Kafka producer and Avro's Java
 * encoder, in plain Avro or in the Confluent wire format (magic byte 0, 4-byte big-endian schema
 * id, then the Avro binary). The series is a slow sine on channel `temp` with a spike of +50 on
 * readings [spikeAt, spikeAt + 5), keyed by entity.
 *
 * Usage: java ReadingProducer <bootstrap> <topic> <schemas/sensor-reading.avsc> <avro|confluent>
 *          <schema id> <entity> <count> <first timestamp ms> <step ms> <spikeAt>
 */
public class ReadingProducer {
  public static void main(String[] args) throws Exception {
    Schema schema = new Schema.Parser().parse(Path.of(args[2]).toFile());
    boolean confluent = args[3].equals("confluent");
    int schemaId = Integer.parseInt(args[4]);
    String entity = args[5];
    int count = Integer.parseInt(args[6]);
    long t0 = Long.parseLong(args[7]);
    long step = Long.parseLong(args[8]);
    int spikeAt = Integer.parseInt(args[9]);

    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    GenericDatumWriter<GenericRecord> writer = new GenericDatumWriter<>(schema);
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props)) {
      for (int i = 0; i < count; i++) {
        double temp = 20 + Math.sin(i / 10.0) + (i >= spikeAt && i < spikeAt + 5 ? 50 : 0);
        GenericRecord reading = new GenericData.Record(schema);
        reading.put("entityId", entity);
        reading.put("timestamp", t0 + i * step);
        reading.put("values", Map.of("temp", temp));
        reading.put("tags", null);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (confluent) out.write(ByteBuffer.allocate(5).put((byte) 0).putInt(schemaId).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        writer.write(reading, encoder);
        encoder.flush();
        sent.add(producer.send(new ProducerRecord<>(args[1], entity, out.toByteArray())));
      }
      for (Future<RecordMetadata> f : sent) f.get(); // fails on the first record the broker refused
    }
    System.out.printf("{\"topic\":\"%s\",\"format\":\"%s\",\"readings\":%d}%n", args[1], args[3], count);
  }
}
