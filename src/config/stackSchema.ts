/** The `stack` section (the local Kafka and InfluxDB of `diffwatch stack`) and the `ops` section (what an operator reads). */
import { z } from 'zod';
import { bool, int, matching, port, rules, str } from './fields.ts';

export const stackSchema = rules(
  z.strictObject({
    dir: str().default('.stack').describe('Where the local stack keeps jars, data and logs (git-ignored). Env: DIFFWATCH_STACK_DIR.'),
    kafkaVersion: matching(/^\d+\.\d+\.\d+$/, 'a release such as 4.1.1').default('4.4.0').describe('Apache Kafka release downloaded and run.'),
    kafkaPort: port().default(9092).describe('Broker port on 127.0.0.1. Env: KAFKA_PORT.'),
    controllerPort: port().default(9093).describe('KRaft controller port on 127.0.0.1. Env: KAFKA_CONTROLLER_PORT.'),
    influxPort: port().default(8086).describe('InfluxDB port on 127.0.0.1. Env: INFLUX_PORT.'),
    registryVersion: matching(/^\d+\.\d+\.\d+(\.Final)?$/, 'an Apicurio Registry release such as 2.6.13.Final').default('2.6.13.Final').describe('Apicurio Registry release (Maven Central, io.apicurio:apicurio-registry-app) run by `stack up --with-registry`; 2.6.x runs on Java 17, 3.x needs Java 21.'),
    registryPort: port().default(8081).describe('Schema registry port on 127.0.0.1; its Confluent-compatible API is http://127.0.0.1:<port>/apis/ccompat/v7.'),
    readyTimeoutMs: int(1_000).default(120_000).describe('ms to wait for both services to become healthy.'),
  }),
  (st, fail) => {
    if (new Set([st.kafkaPort, st.controllerPort, st.influxPort]).size !== 3) fail(['kafkaPort'], `stack.kafkaPort, stack.controllerPort and stack.influxPort must differ, got ${st.kafkaPort}, ${st.controllerPort} and ${st.influxPort}`);
    if ([st.kafkaPort, st.controllerPort, st.influxPort].includes(st.registryPort)) fail(['registryPort'], `must differ from stack.kafkaPort, stack.controllerPort and stack.influxPort, got ${st.registryPort}`);
  },
).prefault({});
export type StackConfig = z.output<typeof stackSchema>;

export const opsSchema = rules(
  z.strictObject({
    http: z
      .strictObject({
        enabled: bool().default(true).describe('Serve the endpoint.'),
        host: str().default('127.0.0.1').describe('Address to listen on (0.0.0.0: every interface).'),
        port: port(0).default(9464).describe('Port to listen on; 0: any free port.'),
      })
      .prefault({})
      .describe('The HTTP endpoint serving /metrics (Prometheus text format), /healthz and /readyz. Env: DIFFWATCH_OPS_HTTP (host:port, or off).'),
    internalIntervalMs: int(0).default(10_000).describe('ms between the pipeline-health points written to InfluxDB\'s `diffwatch_internal` measurement; 0: none, else at least 1000.'),
  }),
  (o, fail) => {
    if (o.internalIntervalMs > 0 && o.internalIntervalMs < 1_000) fail(['internalIntervalMs'], `must be 0 (off) or at least 1000 ms, got ${o.internalIntervalMs}`);
  },
).prefault({});
export type OpsConfig = z.output<typeof opsSchema>;
