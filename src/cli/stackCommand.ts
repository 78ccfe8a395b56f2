/**
 * `diffwatch stack up|down|status`: the local Kafka (KRaft) and InfluxDB 1.x the tests and the demo run against.
 */
import { loadConfig } from '../config/loadConfig.ts';
import { setLogLevel } from '../log.ts';
import { stackDown, stackStatus, stackUp } from '../stack/stack.ts';
import type { Command } from './command.ts';
import { flagString, type ParsedArgs } from './parseArgs.ts';

/** Exit code of `status` when a service is not healthy. */
export const EXIT_UNHEALTHY = 3;

const usage = `Usage: diffwatch stack <up|down|status> [--config <file>]

  up       provision (Maven jars, apt influxdb) and start Kafka and InfluxDB; waits until both answer.
           Idempotent: running healthy services are left alone. Prints the status as JSON.
  down     stop both (SIGTERM, then SIGKILL after a grace period) and wait until their ports are free.
  status   print pid, port, health and log path of each service as JSON; exit 0 if all healthy, else ${EXIT_UNHEALTHY}.

Settings: the "stack" section of the config (dir, kafkaVersion, kafkaPort, controllerPort, influxPort,
readyTimeoutMs); env KAFKA_PORT, KAFKA_CONTROLLER_PORT, INFLUX_PORT, DIFFWATCH_STACK_DIR.
Logs: <stack.dir>/logs/kafka.log and influxdb.log.`;

const print = (value: unknown) => process.stdout.write(JSON.stringify(value, null, 2) + '\n');

export const stackCommand: Command = {
  summary: 'start, stop or inspect the local Kafka and InfluxDB',
  usage,
  async run(args: ParsedArgs): Promise<number> {
    const [action, ...extra] = args.positionals;
    if (extra.length > 0 || (action !== 'up' && action !== 'down' && action !== 'status')) {
      process.stderr.write(`diffwatch stack: expected one of up, down, status${action ? `, got "${[action, ...extra].join(' ')}"` : ''}\n\n${usage}\n`);
      return 2;
    }
    const config = loadConfig({ file: flagString(args, 'config') });
    setLogLevel(config.log.level);
    if (action === 'up') {
      const { status, started } = await stackUp(config.stack);
      print({ ...status, started });
      return 0;
    }
    if (action === 'down') {
      print(await stackDown(config.stack));
      return 0;
    }
    const status = await stackStatus(config.stack);
    print(status);
    return status.healthy ? 0 : EXIT_UNHEALTHY;
  },
};
