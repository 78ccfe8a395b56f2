/** Secrets come only from the environment or files: a password in a config file stops start-up, naming the key. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { influxCredentials, influxUrlWithCredentials, kafkaSaslPassword } from '../../../src/config/secrets.ts';
import { ConfigError } from '../../../src/errors.ts';
import { saslOptions, tlsOptions } from '../../../src/ingest/kafkaClient.ts';

const dir = mkdtempSync(join(tmpdir(), 'dw-secrets-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
};

describe('secrets', () => {
  it('refuses a password literal in a config file, naming the key and the fix', () => {
    const cfgFile = file('c.json', JSON.stringify({ kafka: { sasl: { username: 'u', password: 'p' } } }));
    let err: unknown;
    try {
      loadConfig({ file: cfgFile, env: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).coords.key).toBe('kafka.sasl.password');
    expect((err as Error).message).toMatch(/KAFKA_SASL_PASSWORD/);
    expect(() => loadConfig({ overrides: { sinks: { influx: { password: 'p' } } }, env: {} })).toThrow(/sinks\.influx\.password.*INFLUX_PASSWORD/s);
  });

  it('reads users and password files from the environment, and the password itself only when a client is made', () => {
    const pw = file('k.pw', 'kafka-secret\n');
    const cfg = loadConfig({ env: { KAFKA_SASL_USERNAME: 'diffwatch', KAFKA_SASL_PASSWORD_FILE: pw, KAFKA_SSL_CA_FILE: '/ca.pem', INFLUX_USERNAME: 'writer', INFLUX_PASSWORD: 'influx-secret' } });
    expect(cfg.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'diffwatch', passwordFile: pw });
    expect(cfg.kafka.ssl.enabled).toBe(true);
    expect(JSON.stringify(cfg)).not.toMatch(/kafka-secret|influx-secret/);
    expect(kafkaSaslPassword(cfg.kafka.sasl, {})).toBe('kafka-secret');
    expect(kafkaSaslPassword(cfg.kafka.sasl, { KAFKA_SASL_PASSWORD: 'from-env' })).toBe('from-env');
    expect(saslOptions(cfg.kafka.sasl, {})).toEqual({ mechanism: 'scram-sha-512', username: 'diffwatch', password: 'kafka-secret' });
    expect(influxCredentials(cfg.sinks.influx, { INFLUX_PASSWORD: 'influx-secret' })).toEqual({ username: 'writer', password: 'influx-secret' });
    expect(influxUrlWithCredentials('http://127.0.0.1:8086', cfg.sinks.influx, { INFLUX_PASSWORD: 'a b@c' })).toBe('http://writer:a%20b%40c@127.0.0.1:8086/');
  });

  it('says which key to set when a user has no password, and never shows a file\'s content', () => {
    expect(() => influxCredentials({ username: 'writer', passwordFile: null }, {})).toThrow(/INFLUX_PASSWORD/);
    expect(() => kafkaSaslPassword({ mechanism: 'plain', username: 'u', passwordFile: join(dir, 'missing') }, {})).toThrow(/ENOENT/);
    expect(() => kafkaSaslPassword({ mechanism: 'plain', username: 'u', passwordFile: file('empty', '') }, {})).toThrow(/empty/);
    expect(influxCredentials({ username: null, passwordFile: null }, { INFLUX_PASSWORD: 'x' })).toBeUndefined();
    expect(saslOptions({ mechanism: 'plain', username: null, passwordFile: null }, {})).toBeUndefined();
    expect(tlsOptions({ enabled: false, caFile: null, certFile: null, keyFile: null, rejectUnauthorized: true })).toBe(false);
  });
});
