/** The logger never prints a secret: values under secret keys at any depth, and credentials inside text. */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, redact, REDACTED, setLogSink } from '../../src/log.ts';

const PASSWORD = 'hunter2-Zq9xV';

function capture(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const prev = setLogSink((l) => lines.push(l));
  return { lines, restore: () => setLogSink(prev) };
}

let restore: (() => void) | undefined;
afterEach(() => restore?.());

describe('log redaction', () => {
  it('redacts passwords, SASL configs, Authorization headers, tokens and secrets at any depth', () => {
    const c = capture();
    restore = c.restore;
    createLogger('t').info('connecting', {
      password: PASSWORD,
      kafka: { brokers: ['b:9092'], sasl: { mechanism: 'scram-sha-512', username: 'diffwatch', password: PASSWORD }, ssl: { caFile: '/x/ca.pem' } },
      request: { headers: { Authorization: `Basic ${Buffer.from(`u:${PASSWORD}`).toString('base64')}`, 'content-type': 'text/plain' } },
      list: [{ deep: { deeper: { token: PASSWORD, apiKey: PASSWORD, clientSecret: PASSWORD } } }],
      passwordFile: '/stack/secrets/kafka.password',
    });
    expect(c.lines).toHaveLength(1);
    const line = c.lines[0];
    expect(line).not.toContain(PASSWORD);
    expect(line).not.toContain(Buffer.from(`u:${PASSWORD}`).toString('base64'));
    const rec = JSON.parse(line);
    expect(rec.password).toBe(REDACTED);
    expect(rec.kafka.sasl).toBe(REDACTED);
    expect(rec.kafka.brokers).toEqual(['b:9092']);
    expect(rec.kafka.ssl.caFile).toBe('/x/ca.pem');
    expect(rec.request.headers.Authorization).toBe(REDACTED);
    expect(rec.request.headers['content-type']).toBe('text/plain');
    expect(rec.list[0].deep.deeper).toEqual({ token: REDACTED, apiKey: REDACTED, clientSecret: REDACTED });
    // A password file's path is not a secret; its content never reaches a log.
    expect(rec.passwordFile).toBe('/stack/secrets/kafka.password');
  });

  it('redacts credentials inside strings: URLs with user:password@, Basic and Bearer values, error messages', () => {
    const c = capture();
    restore = c.restore;
    const err = new Error(`request to http://admin:${PASSWORD}@127.0.0.1:8086/query failed`);
    createLogger('t').error(`GET http://admin:${PASSWORD}@h:8086/ping`, { url: `https://w:${PASSWORD}@h/`, header: `Bearer ${PASSWORD}`, error: err, nested: { error: err } });
    const line = c.lines[0];
    expect(line).not.toContain(PASSWORD);
    const rec = JSON.parse(line);
    expect(rec.msg).toBe(`GET http://admin:${REDACTED}@h:8086/ping`);
    expect(rec.url).toBe(`https://w:${REDACTED}@h/`);
    expect(rec.header).toBe(`Bearer ${REDACTED}`);
    expect(rec.error.message).toContain(`admin:${REDACTED}@127.0.0.1`);
    expect(rec.nested.error.name).toBe('Error');
  });

  it('keeps ordinary fields as they are, and survives cycles and bigints', () => {
    const a: Record<string, unknown> = { topic: 't', partition: 0, offset: 12n, passed: true, tokenizer: 'x' };
    a.self = a;
    expect(redact(a)).toEqual({ topic: 't', partition: 0, offset: '12', passed: true, tokenizer: 'x', self: '[circular]' });
    expect(redact({ password: null })).toEqual({ password: null });
  });
});
