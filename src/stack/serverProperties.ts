/**
 * The single-node KRaft broker configuration and its logging configuration, rendered from the config.
 * Pure functions: tested without a broker.
 */

export interface BrokerSettings {
  /** Client listener port on 127.0.0.1. */
  kafkaPort: number;
  /** KRaft controller listener port on 127.0.0.1. */
  controllerPort: number;
  /** Absolute path of the log (data) directory. */
  dataDir: string;
  /** A secure broker (`stack up --secure`): SCRAM on kafkaPort, SCRAM over TLS on tlsPort. */
  security?: BrokerSecurity;
}

export interface BrokerSecurity {
  /** SASL_SSL listener port on 127.0.0.1. */
  tlsPort: number;
  /** PKCS12 keystore with the broker key, certificate and CA chain. */
  keystoreFile: string;
  keystorePassword: string;
  /** The broker's own SCRAM user, for the inter-broker listener. */
  brokerUser: string;
  brokerPassword: string;
}

const SCRAM_LOGIN = 'org.apache.kafka.common.security.scram.ScramLoginModule required';

/**
 * The listener lines: PLAINTEXT for a plain broker; SASL_PLAINTEXT and SASL_SSL, both
 * SCRAM-SHA-512, for a secure one (https://kafka.apache.org/documentation/#security_sasl_scram).
 * The controller listener stays PLAINTEXT on loopback in both.
 */
function listenerProps(s: BrokerSettings): Array<[string, string]> {
  const controller = `CONTROLLER://127.0.0.1:${s.controllerPort}`;
  const sec = s.security;
  if (!sec) {
    return [
      ['listeners', `PLAINTEXT://127.0.0.1:${s.kafkaPort},${controller}`],
      ['advertised.listeners', `PLAINTEXT://127.0.0.1:${s.kafkaPort}`],
      ['inter.broker.listener.name', 'PLAINTEXT'],
      ['controller.listener.names', 'CONTROLLER'],
      ['listener.security.protocol.map', 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT'],
    ];
  }
  const clients = `SASL_PLAINTEXT://127.0.0.1:${s.kafkaPort},SASL_SSL://127.0.0.1:${sec.tlsPort}`;
  return [
    ['listeners', `${clients},${controller}`],
    ['advertised.listeners', clients],
    ['inter.broker.listener.name', 'SASL_PLAINTEXT'],
    ['controller.listener.names', 'CONTROLLER'],
    ['listener.security.protocol.map', 'SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT'],
    ['sasl.enabled.mechanisms', 'SCRAM-SHA-512'],
    ['sasl.mechanism.inter.broker.protocol', 'SCRAM-SHA-512'],
    // The inter-broker listener logs in as the broker's own user; the TLS listener only verifies clients.
    ['listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config', `${SCRAM_LOGIN} username="${sec.brokerUser}" password="${sec.brokerPassword}";`],
    ['listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config', `${SCRAM_LOGIN};`],
    ['ssl.keystore.type', 'PKCS12'],
    ['ssl.keystore.location', sec.keystoreFile],
    ['ssl.keystore.password', sec.keystorePassword],
    ['ssl.client.auth', 'none'],
  ];
}

/**
 * `server.properties` for one node that is both broker and controller.
 * See https://kafka.apache.org/documentation/#kraft_config and the facts file.
 */
export function renderServerProperties(s: BrokerSettings): string {
  const props: Array<[string, string | number | boolean]> = [
    ['process.roles', 'broker,controller'],
    ['node.id', 1],
    // A static quorum of one voter: formatting needs no --standalone and works on 3.9 and 4.x alike.
    ['controller.quorum.voters', `1@127.0.0.1:${s.controllerPort}`],
    ...listenerProps(s),
    ['log.dirs', s.dataDir],
    ['num.partitions', 1],
    // One broker: every internal topic must make do with one replica.
    ['offsets.topic.replication.factor', 1],
    ['offsets.topic.num.partitions', 4],
    ['transaction.state.log.replication.factor', 1],
    ['transaction.state.log.min.isr', 1],
    ['share.coordinator.state.topic.replication.factor', 1],
    ['share.coordinator.state.topic.min.isr', 1],
    ['min.insync.replicas', 1],
    ['default.replication.factor', 1],
    // Without this every consumer-group join waits 3 s for more members.
    ['group.initial.rebalance.delay.ms', 0],
    ['auto.create.topics.enable', true],
    ['delete.topic.enable', true],
    // Tests create many small topics; keep segments small and retention short so the disk does not fill.
    ['log.segment.bytes', 16 * 1024 * 1024],
    ['log.retention.hours', 24],
    // Check retention every 5 s (default 5 min), so a test can see within seconds whether a record
    // stamped too far in the past is deleted (test/integration/interop/, retentionPass.ts).
    ['log.retention.check.interval.ms', 5_000],
    ['num.network.threads', 2],
    ['num.io.threads', 4],
  ];
  return ['# Rendered by diffwatch stack (src/stack/serverProperties.ts). Edits are overwritten on `stack up`.', ...props.map(([k, v]) => `${k}=${v}`), ''].join('\n');
}

/** Kafka 4.x logs through log4j2, Kafka 3.x through reload4j (the log4j 1.x API). */
export type KafkaLogging = 'log4j2' | 'reload4j';

export function kafkaLogging(version: string): KafkaLogging {
  return Number(version.split('.')[0]) >= 4 ? 'log4j2' : 'reload4j';
}

/**
 * Logging configuration: INFO to stdout, which the stack redirects to `logs/kafka.log`.
 * Returns the file text and the JVM system property that points the backend at it.
 */
export function renderKafkaLog4j(logging: KafkaLogging, file: string): { text: string; jvmFlag: string } {
  if (logging === 'log4j2') {
    const text = [
      'status = warn',
      'appender.out.type = Console',
      'appender.out.name = STDOUT',
      'appender.out.layout.type = PatternLayout',
      'appender.out.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = INFO',
      'rootLogger.appenderRef.out.ref = STDOUT',
      // The request logger and the state-change logger are far too chatty at INFO for a test broker.
      'logger.request.name = kafka.request.logger',
      'logger.request.level = WARN',
      'logger.state.name = state.change.logger',
      'logger.state.level = WARN',
      '',
    ].join('\n');
    return { text, jvmFlag: `-Dlog4j2.configurationFile=${file}` };
  }
  const text = [
    'log4j.rootLogger=INFO, stdout',
    'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
    'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.kafka.request.logger=WARN',
    'log4j.logger.state.change.logger=WARN',
    '',
  ].join('\n');
  return { text, jvmFlag: `-Dlog4j.configuration=file:${file}` };
}
