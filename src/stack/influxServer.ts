/**
 * The local InfluxDB 1.x server: `influxd` from the Debian package (installed on demand),
 * a project-owned config under the stack dir, readiness by GET /ping → 204.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { StackConfig } from '../config/schema.ts';
import { StackError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { runCommand, which } from './commands.ts';
import { renderInfluxConf } from './influxConf.ts';
import { ensureInfluxUsers } from './influxUsers.ts';
import { readSecurity } from './security.ts';
import type { StackLayout } from './layout.ts';
import { liveServicePid, spawnDetached, stopProcess, tailFile } from './processes.ts';
import type { ServiceStatus } from './serviceStatus.ts';
import { isListening, waitFor } from './waitFor.ts';

const SERVICE = 'influxdb';
const MARKER = 'influxd';
const STOP_GRACE_MS = 15_000;
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const POLICY_RC = '/usr/sbin/policy-rc.d';

/** The server's version from the X-Influxdb-Version header of /ping, or undefined if it does not answer 204. */
export async function influxPing(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 204 ? (res.headers.get('x-influxdb-version') ?? 'unknown') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Install `influxd` with apt when it is missing. The package's maintainer script would start a system
 * service on 8086; a temporary policy-rc.d (exit 101 = "action forbidden") stops invoke-rc.d and
 * deb-systemd-invoke from doing that, and any service that started anyway is stopped and disabled.
 * An existing policy-rc.d is left as it is.
 */
const INSTALL_SCRIPT = `set -e
own=0
if [ ! -e ${POLICY_RC} ]; then printf '#!/bin/sh\\nexit 101\\n' > ${POLICY_RC}; chmod 755 ${POLICY_RC}; own=1; fi
trap 'if [ "$own" = 1 ]; then rm -f ${POLICY_RC}; fi' EXIT
apt-get update -q
apt-get install -y -q --no-install-recommends influxdb
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then systemctl disable --now influxdb >/dev/null 2>&1 || true; fi
if [ -x /etc/init.d/influxdb ]; then /etc/init.d/influxdb stop >/dev/null 2>&1 || true; fi
`;

export async function ensureInfluxd(log: Logger): Promise<string> {
  const found = which('influxd');
  if (found) return found;
  if (!which('apt-get')) throw new StackError(SERVICE, 'influxd not found and apt-get is unavailable: install InfluxDB 1.x (the `influxdb` package, 1.6+) so that influxd is on PATH');
  const root = process.getuid?.() === 0;
  if (!root && !which('sudo')) throw new StackError(SERVICE, 'influxd not found and not running as root (no sudo): run `apt-get install -y influxdb` as root, then retry');
  const argv = root ? ['sh', '-c', INSTALL_SCRIPT] : ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'sh', '-c', INSTALL_SCRIPT];
  log.info('installing influxdb with apt-get');
  const t0 = Date.now();
  const r = await runCommand(argv[0], argv.slice(1), { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeoutMs: INSTALL_TIMEOUT_MS });
  if (r.code !== 0) throw new StackError(SERVICE, `apt-get install influxdb failed (exit ${r.code}); install InfluxDB 1.x by hand (apt-get install influxdb) and retry.\n${r.output.slice(-4_000)}`);
  const path = which('influxd');
  if (!path) throw new StackError(SERVICE, 'the influxdb package installed but influxd is not on PATH; add /usr/bin to PATH');
  log.info('influxdb installed', { path, ms: Date.now() - t0 });
  return path;
}

function writeInfluxConfig(layout: StackLayout, stack: StackConfig): void {
  const i = layout.influx;
  for (const d of [i.home, i.metaDir, i.dataDir, i.walDir]) mkdirSync(d, { recursive: true });
  writeFileSync(i.conf, renderInfluxConf({ httpPort: stack.influxPort, rpcPort: i.rpcPort, metaDir: i.metaDir, dataDir: i.dataDir, walDir: i.walDir, authEnabled: readSecurity(layout) !== undefined }));
}

export async function influxStatus(layout: StackLayout, stack: StackConfig): Promise<ServiceStatus> {
  const pid = liveServicePid(layout.influx.pidFile, MARKER) ?? null;
  const version = await influxPing(stack.influxPort);
  const healthy = version !== undefined;
  return { service: SERVICE, version: version ?? null, pid, port: stack.influxPort, healthy, external: pid === null && healthy, log: layout.influx.logFile };
}

export async function startInflux(layout: StackLayout, stack: StackConfig, log: Logger): Promise<{ started: boolean }> {
  const port = stack.influxPort;
  const existing = liveServicePid(layout.influx.pidFile, MARKER);
  if (existing === undefined && (await influxPing(port)) !== undefined) {
    log.info('an InfluxDB already answers on the port; leaving it alone', { port });
    return { started: false };
  }
  if (existing !== undefined) {
    await waitHealthy(layout, stack, existing, () => undefined);
    await ensureUsers(layout, stack, log);
    return { started: false };
  }
  const influxd = await ensureInfluxd(log);
  for (const p of [port, layout.influx.rpcPort]) {
    if (await isListening(p)) {
      throw new StackError(SERVICE, `port 127.0.0.1:${p} is taken by another process; stop it (a system InfluxDB: \`service influxdb stop\`) or choose another INFLUX_PORT (the RPC port is INFLUX_PORT+2)`);
    }
  }
  writeInfluxConfig(layout, stack);
  const t0 = Date.now();
  const child = spawnDetached(influxd, ['-config', layout.influx.conf], { cwd: layout.influx.home, logFile: layout.influx.logFile, pidFile: layout.influx.pidFile });
  log.info('influxd starting', { pid: child.pid, port, log: layout.influx.logFile });
  await waitHealthy(layout, stack, child.pid, () => {
    const exit = child.exited();
    if (exit) throw new StackError(SERVICE, `influxd exited during start-up (code ${exit.code}, signal ${exit.signal}). Last lines of ${layout.influx.logFile}:\n${tailFile(layout.influx.logFile)}`);
  });
  log.info('influxd ready', { pid: child.pid, port, ms: Date.now() - t0 });
  await ensureUsers(layout, stack, log);
  return { started: true };
}

/** A secure stack's admin and writer users (influxUsers.ts); nothing for a plain stack. */
async function ensureUsers(layout: StackLayout, stack: StackConfig, log: Logger): Promise<void> {
  const sec = readSecurity(layout);
  if (sec) await ensureInfluxUsers(`http://127.0.0.1:${stack.influxPort}`, sec, log);
}

async function waitHealthy(layout: StackLayout, stack: StackConfig, pid: number, abortIf: () => void): Promise<void> {
  try {
    await waitFor(() => influxPing(stack.influxPort), { timeoutMs: stack.readyTimeoutMs, intervalMs: 200, what: `InfluxDB /ping on 127.0.0.1:${stack.influxPort}`, abortIf });
  } catch (e) {
    if (e instanceof StackError) throw e;
    throw new StackError(SERVICE, `influxd pid ${pid} did not answer /ping with 204 within ${stack.readyTimeoutMs} ms (stack.readyTimeoutMs). Last lines of ${layout.influx.logFile}:\n${tailFile(layout.influx.logFile)}`, e);
  }
}

export async function stopInflux(layout: StackLayout, log: Logger): Promise<{ stopped: boolean; pid?: number }> {
  const pid = liveServicePid(layout.influx.pidFile, MARKER);
  if (pid === undefined) return { stopped: false };
  const how = await stopProcess(pid, layout.influx.pidFile, STOP_GRACE_MS);
  log.info('influxd stopped', { pid, how });
  return { stopped: true, pid };
}
