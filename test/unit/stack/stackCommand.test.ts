/** `diffwatch stack`: argument handling and the status exit code, with nothing listening on the chosen ports. */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EXIT_UNHEALTHY, stackCommand } from '../../../src/cli/stackCommand.ts';
import { runCli } from '../cli/captureRun.ts';

/** Three ports nothing listens on: bound once by the OS to pick them, then released. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

describe('stackCommand', () => {
  const saved = { ...process.env };
  let out = '';
  let err = '';
  beforeEach(() => {
    out = '';
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.env = { ...saved };
  });

  it('rejects a missing or unknown action with exit 2 and the usage', async () => {
    expect(await runCli(stackCommand, [])).toBe(2);
    expect(await runCli(stackCommand, ['restart'])).toBe(2);
    expect(err).toContain("error: missing required argument 'action'");
    expect(err).toContain("'restart' is invalid for argument 'action'. Allowed choices are up, down, status.");
  });

  it('reports both services unhealthy as JSON and exits 3 when nothing runs', async () => {
    const [kafkaPort, controllerPort, influxPort] = await freePorts(3);
    Object.assign(process.env, {
      DIFFWATCH_STACK_DIR: mkdtempSync(join(tmpdir(), 'dw-stack-')),
      KAFKA_PORT: String(kafkaPort),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      INFLUX_PORT: String(influxPort),
      DIFFWATCH_LOG_LEVEL: 'silent',
    });
    expect(await runCli(stackCommand, ['status'])).toBe(EXIT_UNHEALTHY);
    const status = JSON.parse(out);
    expect(status).toMatchObject({
      healthy: false,
      kafka: { service: 'kafka', pid: null, port: kafkaPort, healthy: false, external: false },
      influxdb: { service: 'influxdb', pid: null, port: influxPort, healthy: false, external: false },
    });
    expect(status.kafka.log).toBe(join(process.env.DIFFWATCH_STACK_DIR!, 'logs', 'kafka.log'));
  });

  it('treats down with nothing running as a no-op', async () => {
    const [kafkaPort, controllerPort, influxPort] = await freePorts(3);
    Object.assign(process.env, {
      DIFFWATCH_STACK_DIR: mkdtempSync(join(tmpdir(), 'dw-stack-')),
      KAFKA_PORT: String(kafkaPort),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      INFLUX_PORT: String(influxPort),
    });
    expect(await runCli(stackCommand, ['down'])).toBe(0);
    expect(JSON.parse(out)).toEqual({ stopped: [] });
  });
});
