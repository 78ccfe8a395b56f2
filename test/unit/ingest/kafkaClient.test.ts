/** The Kafka client factory: TLS and SASL options from the config, and refused credentials as AuthError naming Kafka. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuthError, ConfigError } from '../../../src/errors.ts';
import { createKafka, kafkaAuthError, tlsOptions } from '../../../src/ingest/kafkaClient.ts';

const cfg = { brokers: ['127.0.0.1:9192'], clientId: 'c', sasl: { mechanism: 'scram-sha-512' as const, username: 'diffwatch', passwordFile: null } };

describe('createKafka', () => {
  it('turns a refused SASL login into AuthError naming Kafka and the user, without the password', () => {
    const sasl = Object.assign(new Error('SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512'), { name: 'KafkaJSSASLAuthenticationError' });
    const e = kafkaAuthError(sasl, cfg);
    expect(e).toBeInstanceOf(AuthError);
    expect(e!.code).toBe('AUTH_FAILED');
    expect(e!.coords).toMatchObject({ service: 'kafka', user: 'diffwatch', brokers: '127.0.0.1:9192' });
    expect(e!.message).toMatch(/^Kafka SASL authentication failed for user "diffwatch"/);
  });

  it('turns an untrusted broker certificate into AuthError, and leaves other failures alone', () => {
    const tls = Object.assign(new Error('Connection error: self-signed certificate in certificate chain'), { name: 'KafkaJSNumberOfRetriesExceeded' });
    expect(kafkaAuthError(tls, cfg)?.message).toMatch(/Kafka TLS handshake with 127\.0\.0\.1:9192 failed/);
    expect(kafkaAuthError(Object.assign(new Error('Connection timeout'), { name: 'KafkaJSConnectionError' }), cfg)).toBeUndefined();
  });

  it('leaves a failure to connect that is not about credentials as kafkajs reported it', async () => {
    const producer = createKafka({ ...cfg, brokers: ['127.0.0.1:1'] }, { env: { KAFKA_SASL_PASSWORD: 'x' }, connectionTimeout: 200, retry: { retries: 0 } }).producer();
    await expect(producer.connect()).rejects.toSatisfy((e: unknown) => !(e instanceof AuthError) && /ECONNREFUSED|Connection/.test(String((e as Error).message)));
  });

  it('needs a password for a SASL user, and reads the PEM files of kafka.ssl', () => {
    expect(() => createKafka(cfg, { env: {} })).toThrow(ConfigError);
    const dir = mkdtempSync(join(tmpdir(), 'dw-tls-'));
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
    const opts = tlsOptions({ enabled: true, caFile: ca, certFile: null, keyFile: null, rejectUnauthorized: true });
    expect(opts && opts.ca).toHaveLength(1);
    expect(() => tlsOptions({ enabled: true, caFile: join(dir, 'missing.pem'), certFile: null, keyFile: null, rejectUnauthorized: true })).toThrow(/kafka\.ssl\.caFile.*ENOENT/);
  });
});
