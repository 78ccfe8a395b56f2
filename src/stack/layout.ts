/**
 * Where the local stack keeps its files. Everything lives under `stack.dir` (git-ignored),
 * resolved against the repository root so the CLI and the test harness agree wherever they run from.
 *
 *   <dir>/kafka-<version>/libs/            broker jars from Maven (cached, `.complete` marks a full copy)
 *   <dir>/kafka-<version>/server.properties, log4j config, data/   (per version: a newer metadata format cannot be read back by an older broker)
 *   <dir>/influxdb/influxdb.conf, meta/, data/, wal/
 *   <dir>/apicurio-registry-<version>/     schema registry distribution from Maven (`.complete` marks a full unpack; data in memory)
 *   <dir>/run/<service>.pid
 *   <dir>/secrets/                         `stack up --secure` only: CA, broker keystore, generated passwords (mode 600)
 *   <dir>/logs/<service>.log
 */
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StackConfig } from '../config/schema.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));

/** The InfluxDB RPC (backup/restore) port: stack.influxPort + this. The schema has no key of its own for it. */
export const INFLUX_RPC_PORT_OFFSET = 2;

/** A secure stack's SASL_SSL (TLS) listener: stack.kafkaPort (SASL_PLAINTEXT) + this. */
export const KAFKA_TLS_PORT_OFFSET = 2;

export interface StackLayout {
  root: string;
  pom: string;
  lockFile: string;
  kafka: { home: string; libs: string; libsComplete: string; properties: string; log4j: string; dataDir: string; metaProperties: string; pidFile: string; logFile: string };
  influx: { home: string; conf: string; metaDir: string; dataDir: string; walDir: string; pidFile: string; logFile: string; rpcPort: number };
  registry: { pom: string; home: string; runnerJar: string; complete: string; pidFile: string; logFile: string };
  /** What `stack up --secure` generates; `settings` exists only in a secure stack's folder. */
  secrets: { dir: string; settings: string };
}

export function stackLayout(stack: StackConfig, repoRoot = REPO_ROOT): StackLayout {
  const root = isAbsolute(stack.dir) ? stack.dir : resolve(repoRoot, stack.dir);
  const kHome = join(root, `kafka-${stack.kafkaVersion}`);
  const iHome = join(root, 'influxdb');
  const rHome = join(root, `apicurio-registry-${stack.registryVersion}`);
  const dataDir = join(kHome, 'data');
  return {
    root,
    pom: join(repoRoot, 'stack', 'kafka', 'pom.xml'),
    lockFile: join(root, 'run', 'stack.lock'),
    kafka: {
      home: kHome,
      libs: join(kHome, 'libs'),
      libsComplete: join(kHome, 'libs', '.complete'),
      properties: join(kHome, 'server.properties'),
      log4j: join(kHome, 'log4j.properties'),
      dataDir,
      metaProperties: join(dataDir, 'meta.properties'),
      pidFile: join(root, 'run', 'kafka.pid'),
      logFile: join(root, 'logs', 'kafka.log'),
    },
    influx: {
      home: iHome,
      conf: join(iHome, 'influxdb.conf'),
      metaDir: join(iHome, 'meta'),
      dataDir: join(iHome, 'data'),
      walDir: join(iHome, 'wal'),
      pidFile: join(root, 'run', 'influxdb.pid'),
      logFile: join(root, 'logs', 'influxdb.log'),
      rpcPort: stack.influxPort + INFLUX_RPC_PORT_OFFSET,
    },
    registry: {
      pom: join(repoRoot, 'stack', 'registry', 'pom.xml'),
      home: rHome,
      runnerJar: join(rHome, `apicurio-registry-app-${stack.registryVersion}-runner.jar`),
      complete: join(rHome, '.complete'),
      pidFile: join(root, 'run', 'registry.pid'),
      logFile: join(root, 'logs', 'registry.log'),
    },
    secrets: { dir: join(root, 'secrets'), settings: join(root, 'secrets', 'secure.json') },
  };
}
