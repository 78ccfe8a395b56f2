/**
 * The local Apache Kafka broker: jars from Maven Central, a single KRaft node, readiness by a real
 * metadata request. `up` is idempotent; `down` is SIGTERM then SIGKILL.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import type { StackConfig } from '../config/schema.ts';
import { StackError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { javaMajorVersion, runCommand, which } from './commands.ts';
import type { StackLayout } from './layout.ts';
import { commandLine, liveServicePid, spawnDetached, stopProcess, tailFile } from './processes.ts';
import { readSecret, readSecurity, SCRAM_MECHANISM, type StackSecurity } from './security.ts';
import { kafkaLogging, renderKafkaLog4j, renderServerProperties } from './serverProperties.ts';
import type { ServiceStatus } from './serviceStatus.ts';
import { isListening, waitFor, waitForPortFree } from './waitFor.ts';

const SERVICE = 'kafka';
/** Only a process whose command line holds this is taken for our broker. */
const MARKER = 'kafka.Kafka';
/** ms for the Maven resolve; a cold ~/.m2 downloads about 45 MB. */
const RESOLVE_TIMEOUT_MS = 10 * 60_000;
/** ms between SIGTERM and SIGKILL; a controlled shutdown of one node takes a few seconds. */
const STOP_GRACE_MS = 30_000;

function requireJava(version: string): void {
  const major = javaMajorVersion();
  const needed = Number(version.split('.')[0]) >= 4 ? 17 : 11;
  if (major === undefined) throw new StackError(SERVICE, `java not found on PATH: install OpenJDK ${needed} or newer (apt-get install openjdk-17-jre-headless)`);
  if (major < needed) throw new StackError(SERVICE, `Kafka ${version} needs Java ${needed}+, found Java ${major}: install OpenJDK 17`);
}

/**
 * Copy `kafka_2.13:<version>` and its runtime dependencies into `libs/` once.
 * The copy goes to a temporary folder first, so an interrupted download is never mistaken for a cache hit.
 */
export async function resolveKafkaJars(layout: StackLayout, version: string, log: Logger): Promise<{ cached: boolean; ms: number }> {
  const started = Date.now();
  if (existsSync(layout.kafka.libsComplete)) return { cached: true, ms: 0 };
  if (!which('mvn')) throw new StackError(SERVICE, 'mvn not found on PATH: install Maven 3 (apt-get install maven) so the broker jars can be resolved from Maven Central');
  const tmp = `${layout.kafka.libs}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  log.info('resolving broker jars', { version, into: layout.kafka.libs });
  const args = ['-q', '-B', '-f', layout.pom, `-Dkafka.version=${version}`, `-Dkafka.logging=${kafkaLogging(version)}`, `-DoutputDirectory=${tmp}`, 'dependency:copy-dependencies'];
  const r = await runCommand('mvn', args, { timeoutMs: RESOLVE_TIMEOUT_MS });
  if (r.code !== 0 || !existsSync(join(tmp, `kafka_2.13-${version}.jar`))) {
    rmSync(tmp, { recursive: true, force: true });
    throw new StackError(SERVICE, `could not resolve org.apache.kafka:kafka_2.13:${version} with Maven (exit ${r.code}). Check the version exists on Maven Central and that the registry is reachable.\n${r.output.slice(-4_000)}`);
  }
  writeFileSync(join(tmp, '.complete'), `${new Date().toISOString()}\n`);
  rmSync(layout.kafka.libs, { recursive: true, force: true });
  renameSync(tmp, layout.kafka.libs);
  const ms = Date.now() - started;
  log.info('broker jars resolved', { version, ms });
  return { cached: false, ms };
}

/** Render the configuration files; cheap, so done on every start (ports may have changed). */
function writeBrokerConfig(layout: StackLayout, stack: StackConfig, sec: StackSecurity | undefined): string {
  mkdirSync(layout.kafka.home, { recursive: true });
  const security = sec && { tlsPort: sec.tlsPort, keystoreFile: sec.keystoreFile, keystorePassword: readSecret(sec.keystorePasswordFile), brokerUser: sec.kafka.broker.user, brokerPassword: readSecret(sec.kafka.broker.passwordFile) };
  // A secure broker's file holds the keystore and inter-broker passwords: owner only.
  writeFileSync(layout.kafka.properties, renderServerProperties({ kafkaPort: stack.kafkaPort, controllerPort: stack.controllerPort, dataDir: layout.kafka.dataDir, security }), { mode: 0o600 });
  chmodSync(layout.kafka.properties, sec ? 0o600 : 0o644);
  const { text, jvmFlag } = renderKafkaLog4j(kafkaLogging(stack.kafkaVersion), layout.kafka.log4j);
  writeFileSync(layout.kafka.log4j, text);
  return jvmFlag;
}

/**
 * 16 random bytes, base64url without padding, as `kafka-storage random-uuid` prints. Like Kafka's
 * Uuid.randomUuid it never starts with '-', which the formatter's argument parser would take for an option.
 */
export function randomClusterId(bytes: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = bytes().toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** `--add-scram` arguments: the SCRAM users of a secure broker, written into the bootstrap metadata. */
function scramArgs(sec: StackSecurity | undefined): string[] {
  if (!sec) return [];
  return [sec.kafka, sec.kafka.broker].flatMap((u) => ['--add-scram', `${SCRAM_MECHANISM}=[name=${u.user},password=${readSecret(u.passwordFile)}]`]);
}

/**
 * KRaft needs its log directory formatted with a cluster id once, before the first start; a secure
 * broker's SCRAM users are created then (https://kafka.apache.org/documentation/#security_sasl_scram_credentials).
 */
async function formatStorage(layout: StackLayout, log: Logger, sec: StackSecurity | undefined): Promise<void> {
  if (existsSync(layout.kafka.metaProperties)) return;
  const clusterId = randomClusterId();
  const args = ['-Xmx256m', '-cp', 'libs/*', 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', layout.kafka.properties, '--ignore-formatted', ...scramArgs(sec)];
  const r = await runCommand('java', args, { cwd: layout.kafka.home, timeoutMs: 120_000 });
  if (r.code !== 0) throw new StackError(SERVICE, `formatting the KRaft storage in ${layout.kafka.dataDir} failed (exit ${r.code}); delete that folder and retry.\n${r.output.slice(-4_000)}`);
  log.info('storage formatted', { clusterId, dataDir: layout.kafka.dataDir, scramUsers: sec ? [sec.kafka.user, sec.kafka.broker.user] : [] });
}

/** The SCRAM login of the stack's own health checks on a secure broker. */
export function stackSasl(sec: StackSecurity | undefined): SASLOptions | undefined {
  return sec && { mechanism: 'scram-sha-512', username: sec.kafka.user, password: readSecret(sec.kafka.passwordFile) };
}

/** One real metadata round trip: the broker answers DescribeCluster and lists itself. A secure broker is asked over SCRAM. */
export async function kafkaHealthy(port: number, sasl?: SASLOptions): Promise<boolean> {
  const kafka = new Kafka({ clientId: 'diffwatch-stack', brokers: [`127.0.0.1:${port}`], sasl, logLevel: logLevel.NOTHING, connectionTimeout: 1_000, requestTimeout: 5_000, retry: { retries: 0 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.some((b) => b.port === port);
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The version a running broker of ours was started with: its jars live in `kafka-<version>/`. */
export function brokerVersionOf(commandLine: string): string | undefined {
  return /kafka-(\d+\.\d+\.\d+)\//.exec(commandLine)?.[1];
}

export async function kafkaStatus(layout: StackLayout, stack: StackConfig): Promise<ServiceStatus> {
  const pid = liveServicePid(layout.kafka.pidFile, MARKER) ?? null;
  const healthy = await kafkaHealthy(stack.kafkaPort, stackSasl(readSecurity(layout)));
  const version = pid === null ? null : (brokerVersionOf(commandLine(pid)) ?? null);
  return { service: SERVICE, version, pid, port: stack.kafkaPort, healthy, external: pid === null && healthy, log: layout.kafka.logFile };
}

/**
 * Make sure the broker is running and answers metadata requests.
 * Returns whether this call started it (false when a healthy broker was already there).
 */
export async function startKafka(layout: StackLayout, stack: StackConfig, log: Logger): Promise<{ started: boolean }> {
  const port = stack.kafkaPort;
  const sec = readSecurity(layout);
  const existing = liveServicePid(layout.kafka.pidFile, MARKER);
  if (existing === undefined && (await kafkaHealthy(port, stackSasl(sec)))) {
    log.info('a broker already answers on the port; leaving it alone', { port });
    return { started: false };
  }
  if (existing !== undefined) {
    const running = brokerVersionOf(commandLine(existing));
    if (running !== stack.kafkaVersion) log.warn('a broker of another version is running; leaving it alone (run `diffwatch stack down` first to switch)', { pid: existing, running, configured: stack.kafkaVersion });
    // Ours and alive: maybe still starting. Give it the usual time before declaring it broken.
    await waitHealthy(layout, stack, existing, () => undefined);
    return { started: false };
  }
  for (const p of [port, stack.controllerPort, ...(sec ? [sec.tlsPort] : [])]) {
    if (await isListening(p)) throw new StackError(SERVICE, `port 127.0.0.1:${p} is taken by another process that is not a healthy diffwatch broker; stop it or choose other ports (KAFKA_PORT, KAFKA_CONTROLLER_PORT)`);
  }
  requireJava(stack.kafkaVersion);
  await resolveKafkaJars(layout, stack.kafkaVersion, log);
  const jvmLogFlag = writeBrokerConfig(layout, stack, sec);
  await formatStorage(layout, log, sec);
  const t0 = Date.now();
  const child = spawnDetached('java', ['-Xmx512m', '-Xms256m', '-XX:+UseG1GC', '-Djava.awt.headless=true', jvmLogFlag, '-cp', 'libs/*', MARKER, layout.kafka.properties], {
    cwd: layout.kafka.home,
    logFile: layout.kafka.logFile,
    pidFile: layout.kafka.pidFile,
  });
  log.info('broker starting', { pid: child.pid, port, version: stack.kafkaVersion, log: layout.kafka.logFile });
  await waitHealthy(layout, stack, child.pid, () => {
    const exit = child.exited();
    if (exit) throw new StackError(SERVICE, `the broker exited during start-up (code ${exit.code}, signal ${exit.signal}). Last lines of ${layout.kafka.logFile}:\n${tailFile(layout.kafka.logFile)}`);
  });
  log.info('broker ready', { pid: child.pid, port, ms: Date.now() - t0 });
  return { started: true };
}

async function waitHealthy(layout: StackLayout, stack: StackConfig, pid: number, abortIf: () => void): Promise<void> {
  try {
    const sasl = stackSasl(readSecurity(layout));
    await waitFor(async () => ((await kafkaHealthy(stack.kafkaPort, sasl)) ? true : undefined), { timeoutMs: stack.readyTimeoutMs, intervalMs: 500, what: `kafka metadata on 127.0.0.1:${stack.kafkaPort}`, abortIf });
  } catch (e) {
    if (e instanceof StackError) throw e;
    throw new StackError(SERVICE, `broker pid ${pid} did not answer metadata requests within ${stack.readyTimeoutMs} ms (stack.readyTimeoutMs). Last lines of ${layout.kafka.logFile}:\n${tailFile(layout.kafka.logFile)}`, e);
  }
}

export async function stopKafka(layout: StackLayout, stack: StackConfig, log: Logger): Promise<{ stopped: boolean }> {
  const pid = liveServicePid(layout.kafka.pidFile, MARKER);
  if (pid === undefined) return { stopped: false };
  const how = await stopProcess(pid, layout.kafka.pidFile, STOP_GRACE_MS);
  // The process is gone, so the kernel frees the sockets; this only confirms nothing else took them.
  await waitForPortFree(stack.kafkaPort, 15_000);
  await waitForPortFree(stack.controllerPort, 15_000);
  const sec = readSecurity(layout);
  if (sec) await waitForPortFree(sec.tlsPort, 15_000);
  log.info('broker stopped', { pid, how });
  return { stopped: true };
}
