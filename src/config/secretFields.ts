/**
 * Secrets never live in a config file: a `password` key there is refused with the key and where
 * the value belongs instead (an environment variable or a file only the service reads).
 *
 * @example
 * password: refusedSecret('kafka.sasl.password', 'KAFKA_SASL_PASSWORD', 'kafka.sasl.passwordFile'),
 */
import { z } from 'zod';

export function refusedSecret(key: string, envName: string, fileKey: string) {
  const why = `a password is never read from a config file (it would end up in version control and in logs of the config): remove ${key} and set ${envName}, or put the password in a file and set ${fileKey} (or ${envName}_FILE)`;
  return z
    .never({ error: () => why })
    .optional()
    .describe(`Refused: a password in a config file stops start-up. Use ${envName} or ${fileKey}.`);
}
