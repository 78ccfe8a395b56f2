/**
 * The local schema registry: Apicurio Registry from Maven Central (the runnable `all` tar.gz of
 * io.apicurio:apicurio-registry-app), in-memory storage, serving the Confluent API under
 * /apis/ccompat/v7. Readiness by GET <api>/subjects → 200. Its schemas live only as long as the
 * process: a restart gives an empty registry, and ids start again at 1.
 *
 * Confluent's own registry (io.confluent:kafka-schema-registry) is not on Maven Central, and
 * Karapace is not on PyPI; see docs/schema-registry.md.
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackConfig } from '../config/schema.ts';
import { StackError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { javaMajorVersion, runCommand, which } from './commands.ts';
import type { StackLayout } from './layout.ts';
import { liveServicePid, spawnDetached, stopProcess, tailFile } from './processes.ts';
import type { ServiceStatus } from './serviceStatus.ts';
import { isListening, waitFor, waitForPortFree } from './waitFor.ts';

const SERVICE = 'registry';
/** Only a process whose command line holds this is taken for our registry. */
const MARKER = 'apicurio-registry-app';
/** ms for the Maven resolve; a cold ~/.m2 downloads about 140 MB. */
const RESOLVE_TIMEOUT_MS = 10 * 60_000;
/** ms between SIGTERM and SIGKILL; Quarkus stops in about a second. */
const STOP_GRACE_MS = 15_000;

/** Base URL of the Confluent-compatible API of the stack's registry (what `ingest.registry.url` takes). */
export function registryUrl(stack: Pick<StackConfig, 'registryPort'>): string {
  return `http://127.0.0.1:${stack.registryPort}/apis/ccompat/v7`;
}

/** The registry's version when its Confluent API answers, else undefined. */
export async function registryPing(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`${registryUrl({ registryPort: port })}/subjects`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    if (res.status !== 200) return undefined;
    const info = await fetch(`http://127.0.0.1:${port}/apis/registry/v2/system/info`, { signal: AbortSignal.timeout(2_000) });
    const body = info.ok ? ((await info.json()) as { version?: unknown }) : {};
    return typeof body.version === 'string' ? body.version : 'unknown';
  } catch {
    return undefined;
  }
}

function requireJava(version: string): void {
  const major = javaMajorVersion();
  const needed = Number(version.split('.')[0]) >= 3 ? 21 : 17;
  if (major === undefined) throw new StackError(SERVICE, `java not found on PATH: install OpenJDK ${needed} or newer (apt-get install openjdk-17-jre-headless)`);
  if (major < needed) throw new StackError(SERVICE, `Apicurio Registry ${version} needs Java ${needed}+, found Java ${major}: use stack.registryVersion 2.6.13.Final, or install Java ${needed}`);
}

/**
 * Unpack the distribution once. It goes to a temporary folder first, so an interrupted
 * download is never mistaken for a cache hit.
 */
export async function resolveRegistry(layout: StackLayout, version: string, log: Logger): Promise<{ cached: boolean; ms: number }> {
  const started = Date.now();
  const r = layout.registry;
  if (existsSync(r.complete)) return { cached: true, ms: 0 };
  if (!which('mvn')) throw new StackError(SERVICE, 'mvn not found on PATH: install Maven 3 (apt-get install maven) so the registry can be resolved from Maven Central');
  const tmp = `${r.home}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  log.info('resolving schema registry', { version, into: r.home });
  const args = ['-q', '-B', '-f', r.pom, `-Dregistry.version=${version}`, `-DoutputDirectory=${tmp}`, 'dependency:unpack'];
  const res = await runCommand('mvn', args, { timeoutMs: RESOLVE_TIMEOUT_MS });
  const jar = join(tmp, `apicurio-registry-app-${version}-runner.jar`);
  if (res.code !== 0 || !existsSync(jar)) {
    rmSync(tmp, { recursive: true, force: true });
    throw new StackError(SERVICE, `could not resolve io.apicurio:apicurio-registry-app:${version}:tar.gz:all with Maven (exit ${res.code}${res.code === 0 ? `, no ${jar}` : ''}). Check the version exists on Maven Central with that runnable distribution (2.6.x has a -runner.jar; 3.x a quarkus-run.jar, not supported here).\n${res.output.slice(-4_000)}`);
  }
  writeFileSync(join(tmp, '.complete'), `${new Date().toISOString()}\n`);
  rmSync(r.home, { recursive: true, force: true });
  renameSync(tmp, r.home);
  const ms = Date.now() - started;
  log.info('schema registry resolved', { version, ms });
  return { cached: false, ms };
}

export async function registryStatus(layout: StackLayout, stack: StackConfig): Promise<ServiceStatus> {
  const pid = liveServicePid(layout.registry.pidFile, MARKER) ?? null;
  const version = await registryPing(stack.registryPort);
  const healthy = version !== undefined;
  return { service: SERVICE, version: version ?? null, pid, port: stack.registryPort, healthy, external: pid === null && healthy, log: layout.registry.logFile };
}

/** Make sure a registry answers on `stack.registryPort`; returns whether this call started it. */
export async function startRegistry(layout: StackLayout, stack: StackConfig, log: Logger): Promise<{ started: boolean }> {
  const port = stack.registryPort;
  const existing = liveServicePid(layout.registry.pidFile, MARKER);
  if (existing === undefined && (await registryPing(port)) !== undefined) {
    log.info('a schema registry already answers on the port; leaving it alone', { port });
    return { started: false };
  }
  if (existing !== undefined) {
    await waitHealthy(layout, stack, existing, () => undefined);
    return { started: false };
  }
  if (await isListening(port)) throw new StackError(SERVICE, `port 127.0.0.1:${port} is taken by a process that does not serve the Confluent API under /apis/ccompat/v7; stop it or choose another stack.registryPort`);
  requireJava(stack.registryVersion);
  await resolveRegistry(layout, stack.registryVersion, log);
  const t0 = Date.now();
  const args = ['-Xms64m', '-Xmx384m', '-XX:+UseSerialGC', '-Djava.awt.headless=true', `-Dquarkus.http.port=${port}`, '-Dquarkus.http.host=127.0.0.1', '-jar', layout.registry.runnerJar];
  const child = spawnDetached('java', args, { cwd: layout.registry.home, logFile: layout.registry.logFile, pidFile: layout.registry.pidFile });
  log.info('schema registry starting', { pid: child.pid, port, version: stack.registryVersion, log: layout.registry.logFile });
  await waitHealthy(layout, stack, child.pid, () => {
    const exit = child.exited();
    if (exit) throw new StackError(SERVICE, `the registry exited during start-up (code ${exit.code}, signal ${exit.signal}). Last lines of ${layout.registry.logFile}:\n${tailFile(layout.registry.logFile)}`);
  });
  log.info('schema registry ready', { pid: child.pid, port, url: registryUrl(stack), ms: Date.now() - t0 });
  return { started: true };
}

async function waitHealthy(layout: StackLayout, stack: StackConfig, pid: number, abortIf: () => void): Promise<void> {
  try {
    await waitFor(() => registryPing(stack.registryPort), { timeoutMs: stack.readyTimeoutMs, intervalMs: 250, what: `the schema registry API ${registryUrl(stack)}`, abortIf });
  } catch (e) {
    if (e instanceof StackError) throw e;
    throw new StackError(SERVICE, `registry pid ${pid} did not answer ${registryUrl(stack)}/subjects within ${stack.readyTimeoutMs} ms (stack.readyTimeoutMs). Last lines of ${layout.registry.logFile}:\n${tailFile(layout.registry.logFile)}`, e);
  }
}

export async function stopRegistry(layout: StackLayout, stack: StackConfig, log: Logger): Promise<{ stopped: boolean }> {
  const pid = liveServicePid(layout.registry.pidFile, MARKER);
  if (pid === undefined) return { stopped: false };
  const how = await stopProcess(pid, layout.registry.pidFile, STOP_GRACE_MS);
  await waitForPortFree(stack.registryPort, 15_000);
  log.info('schema registry stopped', { pid, how });
  return { stopped: true };
}
