/**
 * `diffwatch run --config <file> [--until-idle <seconds>]`: the service. Runs until SIGTERM or
 * SIGINT (or, with --until-idle, until no message has arrived for that long and nothing is in
 * flight and no model is being trained); then it stops fetching, drains, flushes the sinks, commits and exits 0.
 */
import { loadConfig } from '../config/loadConfig.ts';
import { ConfigError } from '../errors.ts';
import { rootLogger, setLogLevel } from '../log.ts';
import { Metrics } from '../metrics.ts';
import { startService } from '../service/pipeline.ts';
import type { Command } from './command.ts';
import { flagNumber, flagString } from './parseArgs.ts';

export const runCommand: Command = {
  summary: 'consume telemetry, score windows, write scores and alerts',
  usage: [
    'Usage: diffwatch run [--config <file>] [--until-idle <seconds>]',
    '',
    '  --config <file>        JSON config overriding the defaults (env overrides it: KAFKA_BROKERS, INFLUX_URL, ...)',
    '  --until-idle <s>       exit 0 once no message has arrived for <s> seconds, all work is durable and no model is training',
  ].join('\n'),
  async run(args) {
    const cfg = loadConfig({ file: flagString(args, 'config') });
    setLogLevel(cfg.log.level);
    const idleS = flagNumber(args, 'until-idle');
    if (idleS !== undefined && !(idleS > 0)) throw new ConfigError('--until-idle', 'must be a positive number of seconds');
    const log = rootLogger.namespace('service');
    const service = await startService(cfg, { log, metrics: new Metrics() });

    const onSignal = (sig: string) => void service.stop(sig).catch(() => undefined);
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
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
  },
};
