import { describe, expect, it } from 'vitest';
import { kafkaLogging, renderKafkaLog4j, renderServerProperties } from '../../../src/stack/serverProperties.ts';

/** Parse `key=value` lines the way java.util.Properties reads our simple output. */
function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    expect(eq, `line without '=': ${line}`).toBeGreaterThan(0);
    expect(out.has(line.slice(0, eq)), `duplicate key ${line.slice(0, eq)}`).toBe(false);
    out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

describe('renderServerProperties', () => {
  const props = parseProperties(renderServerProperties({ kafkaPort: 19092, controllerPort: 19093, dataDir: '/tmp/st/kafka-4.4.0/data' }));

  it('makes one node both broker and controller, on loopback at the configured ports', () => {
    expect(props.get('process.roles')).toBe('broker,controller');
    expect(props.get('node.id')).toBe('1');
    expect(props.get('controller.quorum.voters')).toBe('1@127.0.0.1:19093');
    expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:19092');
    expect(props.get('controller.listener.names')).toBe('CONTROLLER');
  });

  it('keeps data under the stack dir and sizes internal topics for a single broker', () => {
    expect(props.get('log.dirs')).toBe('/tmp/st/kafka-4.4.0/data');
    expect(props.get('offsets.topic.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.min.isr')).toBe('1');
    expect(props.get('min.insync.replicas')).toBe('1');
  });

  it('joins groups without the 3 s initial delay and auto-creates topics', () => {
    expect(props.get('group.initial.rebalance.delay.ms')).toBe('0');
    expect(props.get('auto.create.topics.enable')).toBe('true');
  });

  it('checks retention every 5 s, so the tests see a retention deletion within seconds', () => {
    expect(props.get('log.retention.check.interval.ms')).toBe('5000');
    expect(props.get('log.retention.hours')).toBe('24');
  });
});

describe('kafka logging backend', () => {
  it('is log4j2 from Kafka 4 on and reload4j before', () => {
    expect(kafkaLogging('4.4.0')).toBe('log4j2');
    expect(kafkaLogging('4.0.0')).toBe('log4j2');
    expect(kafkaLogging('3.9.1')).toBe('reload4j');
  });

  it('points the JVM at the rendered file with the backend-specific property', () => {
    const v2 = renderKafkaLog4j('log4j2', '/s/log4j.properties');
    expect(v2.jvmFlag).toBe('-Dlog4j2.configurationFile=/s/log4j.properties');
    expect(v2.text).toMatch(/^rootLogger\.level = INFO$/m);
    const v1 = renderKafkaLog4j('reload4j', '/s/log4j.properties');
    expect(v1.jvmFlag).toBe('-Dlog4j.configuration=file:/s/log4j.properties');
    expect(v1.text).toMatch(/^log4j\.rootLogger=INFO, stdout$/m);
  });
});
