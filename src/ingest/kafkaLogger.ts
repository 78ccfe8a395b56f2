/**
 * Route kafkajs's own logs through diffwatch's structured logger, so that every line on
 * stderr is one JSON object with `ns` (kafkajs writes its own format to stdout otherwise).
 */
import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from '../log.ts';

/**
 * kafkajs logs every error response of the broker at ERROR, also those it retries by itself
 * (e.g. "This server does not host this topic-partition" while a topic is being auto-created).
 * Those are warnings for an operator; the failures that matter surface as errors in diffwatch.
 */
function isRetriedResponse(namespace: string, message: string): boolean {
  return namespace === 'Connection' && message.startsWith('Response ');
}

export function kafkaLogCreator(log: Logger): logCreator {
  const ns = log.namespace('kafkajs');
  return () =>
    ({ namespace, level, log: entry }) => {
      const { message, timestamp: _t, logger: _l, ...fields } = entry;
      const f = { component: namespace, ...fields };
      if (level === logLevel.ERROR && !isRetriedResponse(namespace, message)) ns.error(message, f);
      else if (level === logLevel.ERROR || level === logLevel.WARN) ns.warn(message, f);
      else if (level === logLevel.INFO) ns.info(message, f);
      else ns.debug(message, f);
    };
}
