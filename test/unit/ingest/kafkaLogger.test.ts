import { logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { kafkaLogCreator } from '../../../src/ingest/kafkaLogger.ts';
import { createLogger, setLogSink, type LogSink } from '../../../src/log.ts';

let restore: LogSink | undefined;
afterEach(() => {
  if (restore) setLogSink(restore);
});

function capture() {
  const lines: Record<string, unknown>[] = [];
  restore = setLogSink((l) => lines.push(JSON.parse(l)));
  const entry = kafkaLogCreator(createLogger('t'))(logLevel.DEBUG);
  const log = (level: logLevel, namespace: string, message: string) =>
    entry({ namespace, level, label: '', log: { message, timestamp: 'x', logger: 'kafkajs', broker: '127.0.0.1:9092' } });
  return { lines, log };
}

describe('kafkaLogCreator', () => {
  it('writes kafkajs logs as structured lines under the kafkajs namespace', () => {
    const { lines, log } = capture();
    log(logLevel.ERROR, 'Consumer', 'Crash: KafkaJSNumberOfRetriesExceeded');
    log(logLevel.INFO, 'ConsumerGroup', 'joined');
    expect(lines.map((l) => [l.level, l.ns, l.msg, l.component, l.broker])).toEqual([
      ['error', 't.kafkajs', 'Crash: KafkaJSNumberOfRetriesExceeded', 'Consumer', '127.0.0.1:9092'],
      ['info', 't.kafkajs', 'joined', 'ConsumerGroup', '127.0.0.1:9092'],
    ]);
  });

  it('downgrades broker error responses that kafkajs retries by itself to warnings', () => {
    const { lines, log } = capture();
    log(logLevel.ERROR, 'Connection', 'Response Metadata(key: 3, version: 6)');
    log(logLevel.ERROR, 'Connection', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    expect(lines.map((l) => l.level)).toEqual(['warn', 'error']);
  });
});
