/**
 * Vitest global setup of the integration project: make sure the local stack is up (starting it
 * in-process if needed), hand its addresses to the tests through the environment, and stop on teardown
 * only what this run started. Set DIFFWATCH_STACK_KEEP=1 to leave a stack this run started running.
 */
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config/loadConfig.ts';
import { stackDown, stackUp } from '../../src/stack/stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    influxUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { stack } = loadConfig();
  const t0 = Date.now();
  const { started } = await stackUp(stack);
  const kafkaBrokers = `127.0.0.1:${stack.kafkaPort}`;
  const influxUrl = `http://127.0.0.1:${stack.influxPort}`;
  // Workers are started after this runs and inherit the environment; provide() covers other pools.
  process.env.KAFKA_BROKERS = kafkaBrokers;
  process.env.INFLUX_URL = influxUrl;
  project.provide('kafkaBrokers', kafkaBrokers);
  project.provide('influxUrl', influxUrl);
  if (started.length > 0) process.stderr.write(`integration: started ${started.join(', ')} in ${Date.now() - t0} ms\n`);
  return async () => {
    if (started.length === 0 || process.env.DIFFWATCH_STACK_KEEP === '1') return;
    await stackDown(stack, { services: started });
  };
}
