import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { DEFAULTS } from '../../../src/config/schema.ts';
import { ConfigError } from '../../../src/errors.ts';

function file(content: unknown): string {
  const f = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'c.json');
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('returns the defaults, frozen, when nothing overrides them', () => {
    const c = loadConfig({ env: {} });
    expect(c).toEqual(DEFAULTS);
    expect(Object.isFrozen(c.kafka.brokers)).toBe(true);
    expect(() => {
      (c.stream as { windowLength: number }).windowLength = 3;
    }).toThrow(TypeError);
  });

  it('layers file over defaults and env over file', () => {
    const f = file({ kafka: { brokers: ['a:1'], topics: ['x'] }, stream: { windowLength: 32 } });
    const c = loadConfig({ file: f, env: { KAFKA_BROKERS: 'b:2, c:3', INFLUX_URL: 'http://db:8086' } });
    expect(c.kafka.brokers).toEqual(['b:2', 'c:3']);
    expect(c.kafka.topics).toEqual(['x']);
    expect(c.stream.windowLength).toBe(32);
    expect(c.stream.hop).toBe(DEFAULTS.stream.hop);
    expect(c.sinks.influx.url).toBe('http://db:8086');
    expect(c.sinks.influx.database).toBe('diffwatch');
  });

  it('names the key of a bad value and says how to fix it', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ stream: { windowLength: 1 } }, 'stream.windowLength', /between 2 and/],
      [{ stream: { hop: 100 } }, 'stream.hop', /at most stream.windowLength/],
      [{ kafka: { brokers: ['nohost'] } }, 'kafka.brokers', /host:port/],
      [{ kafka: { topicPattern: '(' } }, 'kafka.topicPattern', /regular expression/],
      [{ ingest: { format: 'xml' } }, 'ingest.format', /one of avro, confluent, json/],
      [{ ingest: { format: 'confluent' } }, 'ingest.schemaIds', /schema id/],
      [{ ingest: { lowWaterMark: 50_000 } }, 'ingest.lowWaterMark', /below ingest.highWaterMark/],
      [{ sinks: { influx: { url: 'ftp://x' } } }, 'sinks.influx.url', /http\(s\) URL/],
      [{ stream: { windowLenght: 4 } }, 'stream.windowLenght', /unknown key/],
      [{ scorer: { kind: 'magic' } }, 'scorer.kind', /baseline, diffusion/],
    ];
    for (const [content, key, msg] of cases) {
      const e = errorOf(() => loadConfig({ file: file(content), env: {} }));
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.coords.key).toBe(key);
      expect(e.message).toMatch(msg);
    }
  });

  it('rejects unreadable and non-JSON files and bad env ports', () => {
    expect(errorOf(() => loadConfig({ file: '/nonexistent/c.json', env: {} })).message).toMatch(/cannot read config file/);
    expect(errorOf(() => loadConfig({ file: file('{nope'), env: {} })).message).toMatch(/not valid JSON/);
    expect(errorOf(() => loadConfig({ env: { KAFKA_PORT: 'abc' } })).coords.key).toBe('stack.kafkaPort');
  });

  it('accepts open maps such as per-topic formats', () => {
    const c = loadConfig({ file: file({ ingest: { formats: { a: 'json', b: 'avro' } } }), env: {} });
    expect(c.ingest.formats).toEqual({ a: 'json', b: 'avro' });
  });
});
