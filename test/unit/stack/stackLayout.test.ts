import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config/schema.ts';
import { INFLUX_RPC_PORT_OFFSET, stackLayout } from '../../../src/stack/layout.ts';
import { brokerVersionOf, randomClusterId } from '../../../src/stack/kafkaBroker.ts';
import { parseJavaMajor } from '../../../src/stack/commands.ts';

describe('stackLayout', () => {
  it('resolves a relative dir against the repository root and keeps each Kafka version apart', () => {
    const l = stackLayout({ ...DEFAULTS.stack, dir: '.stack', kafkaVersion: '4.4.0', influxPort: 18086 }, '/repo');
    expect(l.root).toBe('/repo/.stack');
    expect(l.pom).toBe('/repo/stack/kafka/pom.xml');
    expect(l.kafka.libs).toBe('/repo/.stack/kafka-4.4.0/libs');
    expect(l.kafka.dataDir).toBe('/repo/.stack/kafka-4.4.0/data');
    expect(l.kafka.logFile).toBe('/repo/.stack/logs/kafka.log');
    expect(l.influx.pidFile).toBe('/repo/.stack/run/influxdb.pid');
    expect(l.influx.rpcPort).toBe(18086 + INFLUX_RPC_PORT_OFFSET);
  });

  it('keeps an absolute dir as given', () => {
    expect(stackLayout({ ...DEFAULTS.stack, dir: '/var/dw' }, '/repo').root).toBe('/var/dw');
  });
});

describe('broker helpers', () => {
  it('reads the broker version from its command line', () => {
    expect(brokerVersionOf('java -Xmx512m -Dlog4j2.configurationFile=/r/.stack/kafka-4.4.0/log4j.properties -cp libs/* kafka.Kafka /r/.stack/kafka-4.4.0/server.properties')).toBe('4.4.0');
    expect(brokerVersionOf('java kafka.Kafka /etc/kafka/server.properties')).toBeUndefined();
  });

  it('makes 22-character base64url cluster ids that never start with "-"', () => {
    const leadingDash = Buffer.from([0xfb, 0xef, ...Array(14).fill(1)]); // base64url "--8B..."
    const ok = Buffer.alloc(16, 7);
    const draws = [leadingDash, ok];
    const id = randomClusterId(() => draws.shift()!);
    expect(leadingDash.toString('base64url').startsWith('-')).toBe(true);
    expect(id).toBe(ok.toString('base64url'));
    expect(randomClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });

  it('parses the Java major version from `java -version` output', () => {
    expect(parseJavaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajor('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajor('garbage')).toBeUndefined();
  });
});
