/** A secure broker: SCRAM-SHA-512 on SASL_PLAINTEXT and SASL_SSL listeners, the controller on PLAINTEXT loopback. */
import { describe, expect, it } from 'vitest';
import { renderInfluxConf } from '../../../src/stack/influxConf.ts';
import { secureStackConfig } from '../../../src/stack/security.ts';
import { renderServerProperties } from '../../../src/stack/serverProperties.ts';

const props = (text: string) => Object.fromEntries(text.split('\n').filter((l) => l.includes('=') && !l.startsWith('#')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

describe('secure stack configuration', () => {
  it('renders SASL_PLAINTEXT and SASL_SSL listeners with SCRAM-SHA-512 and the keystore', () => {
    const p = props(renderServerProperties({ kafkaPort: 9192, controllerPort: 9193, dataDir: '/d', security: { tlsPort: 9194, keystoreFile: '/s/broker.p12', keystorePassword: 'ks', brokerUser: 'b', brokerPassword: 'bp' } }));
    expect(p.listeners).toBe('SASL_PLAINTEXT://127.0.0.1:9192,SASL_SSL://127.0.0.1:9194,CONTROLLER://127.0.0.1:9193');
    expect(p['advertised.listeners']).toBe('SASL_PLAINTEXT://127.0.0.1:9192,SASL_SSL://127.0.0.1:9194');
    expect(p['listener.security.protocol.map']).toBe('SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT');
    expect(p['sasl.enabled.mechanisms']).toBe('SCRAM-SHA-512');
    expect(p['inter.broker.listener.name']).toBe('SASL_PLAINTEXT');
    expect(p['listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config']).toContain('username="b" password="bp";');
    expect(p['ssl.keystore.location']).toBe('/s/broker.p12');
    expect(p['ssl.keystore.type']).toBe('PKCS12');
  });

  it('keeps the plain broker as it was', () => {
    const p = props(renderServerProperties({ kafkaPort: 9092, controllerPort: 9093, dataDir: '/d' }));
    expect(p.listeners).toBe('PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093');
    expect(p['sasl.enabled.mechanisms']).toBeUndefined();
  });

  it('turns InfluxDB auth on only for the secure stack, which gets its own folder and ports', () => {
    const base = { httpPort: 8186, rpcPort: 8188, metaDir: '/m', dataDir: '/d', walDir: '/w' };
    expect(renderInfluxConf({ ...base, authEnabled: true })).toContain('auth-enabled = true');
    expect(renderInfluxConf(base)).toContain('auth-enabled = false');
    const s = secureStackConfig({ dir: '.stack', kafkaVersion: '4.4.0', kafkaPort: 9092, controllerPort: 9093, influxPort: 8086, registryVersion: '2.6.13.Final', registryPort: 8081, readyTimeoutMs: 1_000 });
    expect([s.dir, s.kafkaPort, s.controllerPort, s.influxPort]).toEqual(['.stack-secure', 9192, 9193, 8186]);
  });
});
