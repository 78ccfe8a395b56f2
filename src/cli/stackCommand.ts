/**
 * `diffwatch stack up|down|status`: the local Kafka (KRaft) and InfluxDB 1.x the tests and the demo run against.
 */
import { Argument } from 'commander';
import { Command, examples, withExitCode } from './command.ts';

/** Exit code of `status` when a service is not healthy. */
export const EXIT_UNHEALTHY = 3;

const ACTIONS = ['up', 'down', 'status'] as const;

const print = (value: unknown) => process.stdout.write(JSON.stringify(value, null, 2) + '\n');

async function stack(action: (typeof ACTIONS)[number], flags: { config?: string; withRegistry?: boolean; secure?: boolean }): Promise<number> {
  const { loadConfig } = await import('../config/loadConfig.ts');
  const { rootLogger, setLogLevel } = await import('../log.ts');
  const { clientEnv, stackDown, stackStatus, stackUp } = await import('../stack/stack.ts');
  const { readSecurity, secureStackConfig } = await import('../stack/security.ts');
  const { stackLayout } = await import('../stack/layout.ts');
  const config = loadConfig({ file: flags.config });
  setLogLevel(config.log.level);
  const st = flags.secure ? secureStackConfig(config.stack) : config.stack;
  // Paths and users only: the passwords stay in their files.
  const secure = () => {
    const s = readSecurity(stackLayout(st));
    return s ? { security: { ...s, env: { sasl: clientEnv(s, 'sasl'), tls: clientEnv(s, 'tls') } } } : {};
  };
  if (action === 'up') {
    const { status, started } = await stackUp(st, rootLogger.namespace('stack'), { withRegistry: flags.withRegistry === true, secure: flags.secure === true });
    print({ ...status, started, ...secure() });
    return 0;
  }
  if (action === 'down') {
    print(await stackDown(st));
    return 0;
  }
  const status = await stackStatus(st);
  print({ ...status, ...secure() });
  return status.healthy ? 0 : EXIT_UNHEALTHY;
}

export function stackCommand(): Command {
  return new Command('stack')
    .summary('start, stop or inspect the local Kafka and InfluxDB')
    .description('Start, stop or inspect the local Kafka (KRaft, 127.0.0.1:9092) and InfluxDB 1.x (127.0.0.1:8086).')
    .addArgument(
      new Argument('<action>', `up: provision (Maven jars, apt influxdb) and start both, wait until both answer; idempotent; prints the status as JSON
down: stop all that this stack started, the registry included (SIGTERM, then SIGKILL after a grace period), wait until their ports are free
status: print pid, port, health and log path of each as JSON; exit 0 if all healthy, else ${EXIT_UNHEALTHY}`).choices(ACTIONS),
    )
    .option('--config <file>', 'diffwatch config; its "stack" section sets dir, kafkaVersion, ports, readyTimeoutMs')
    .option('--secure', 'a second, secured stack in <stack.dir>-secure with every port + 100: Kafka SASL_PLAINTEXT (9192) and SASL_SSL/TLS (9194) with SCRAM-SHA-512, InfluxDB with auth (8186); generated passwords go to files under <dir>/secrets, printed as paths with the env a service needs')
    .option('--with-registry', 'up: also start a schema registry (Apicurio Registry from Maven Central, in memory) serving the Confluent API at http://127.0.0.1:<stack.registryPort>/apis/ccompat/v7')
    .addHelpText(
      'after',
      `
Env: KAFKA_PORT, KAFKA_CONTROLLER_PORT, INFLUX_PORT, DIFFWATCH_STACK_DIR.
Logs: <stack.dir>/logs/kafka.log, influxdb.log and registry.log.
${examples('diffwatch stack up', 'diffwatch stack up --with-registry', 'diffwatch stack up --secure', 'diffwatch stack down --secure', 'diffwatch stack status || echo "unhealthy (exit 3)"', 'diffwatch stack down')}`,
    )
    .action(withExitCode(stack));
}
