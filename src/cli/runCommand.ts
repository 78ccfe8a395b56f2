/**
 * `diffwatch run --config <file> [--until-idle <seconds>]`: the service. Runs until SIGTERM or
 * SIGINT (or, with --until-idle, until no message has arrived for that long and nothing is in
 * flight and no model is being trained); then it stops fetching, drains, flushes the sinks, commits and exits 0.
 * A second SIGTERM or SIGINT while it drains exits at once with EXIT.sigterm (143) or EXIT.sigint (130).
 * The service (kafkajs, TensorFlow.js) is imported inside the action, so `diffwatch --help` stays fast.
 */
import { ConfigError } from '../errors.ts';
import { Command, EXIT, examples, numberFlag, withExitCode } from './command.ts';

async function run(flags: { config?: string; untilIdle?: number }): Promise<number> {
  const { loadConfig } = await import('../config/loadConfig.ts');
  const { rootLogger, setLogLevel } = await import('../log.ts');
  const cfg = loadConfig({ file: flags.config });
  setLogLevel(cfg.log.level);
  const idleS = flags.untilIdle;
  if (idleS !== undefined && !(idleS > 0)) throw new ConfigError('--until-idle', 'must be a positive number of seconds');
  const { Metrics } = await import('../metrics.ts');
  const { startService } = await import('../service/pipeline.ts');
  const log = rootLogger.namespace('service');
  const service = await startService(cfg, { log, metrics: new Metrics() });

  // The first signal drains; a second one (either kind) exits at once: an operator who asks twice
  // wants it gone, and whatever was not committed is redelivered.
  let signalled = false;
  const onSignal = (sig: 'SIGTERM' | 'SIGINT') => {
    if (signalled) {
      log.warn('second signal while draining: exiting without flushing or committing', { signal: sig });
      process.exit(sig === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
    }
    signalled = true;
    void service.stop(sig).catch(() => undefined);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  let idleTimer: NodeJS.Timeout | undefined;
  if (idleS !== undefined) {
    const idleMs = idleS * 1000;
    idleTimer = setInterval(() => {
      if (Date.now() - service.lastMessageAt() >= idleMs && service.inFlight() === 0 && !service.resuming() && !service.training()) {
        clearInterval(idleTimer);
        void service.stop(`idle for ${idleS} s`).catch(() => undefined);
      }
    }, Math.min(500, idleMs / 4));
  }
  try {
    await service.done;
    return 0;
  } finally {
    clearInterval(idleTimer);
  }
}

export function runCommand(): Command {
  return new Command('run')
    .summary('consume telemetry, score windows, write scores and alerts')
    .description('The service: consume telemetry from Kafka, score windows, write scores and alerts to InfluxDB and the anomalies topic. Stops cleanly on SIGTERM or SIGINT: stops fetching, drains, flushes the sinks, commits, exits 0. A second SIGTERM or SIGINT while draining exits at once with 143 or 130.')
    .option('--config <file>', 'JSON config overriding the defaults (env overrides it: KAFKA_BROKERS, INFLUX_URL, ...)')
    .option('--until-idle <s>', 'exit 0 once no message has arrived for <s> seconds, all work is durable and no model is training', numberFlag('--until-idle'))
    .addHelpText('after', examples('diffwatch run --config config/diffwatch.json', 'diffwatch run --config config/diffwatch.json --until-idle 3'))
    .action(withExitCode(run));
}
