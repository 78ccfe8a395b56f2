/**
 * `diffwatch top` in a real terminal: tmux (a private server, a detached 120x40 session) runs it
 * against a live `diffwatch run` on the shared stack. The pane must show each entity's state,
 * score, threshold, model version and open alerts exactly as InfluxDB holds them, a positive
 * windows/s while the service works, the lag drained to 0 and readiness; `q` (and Ctrl-C) must
 * end it with exit code 0 and close the session. After the run it shows the last state from
 * InfluxDB and says /metrics is unreachable.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { displayState, formatNumber, isOpen } from '../../../src/top/topModel.ts';
import { createTopics, influxUrl, kafkaBrokers, kafkaClient, uniqueName, waitUntil } from '../helpers.ts';
import { BIN, NAB, ROOT, countScores, influxClient, killAllDiffwatch, produceSeries, startDiffwatch, windowEndTimes, writeConfig } from '../service/runHelpers.ts';

const WINDOW = 32;
const SERIES = [
  { entity: 'ec2-latency', file: join(NAB, 'ec2_request_latency_system_failure.csv'), rows: 4_032 },
  { entity: 'ambient-temp', file: join(NAB, 'ambient_temperature_system_failure.csv'), rows: 3_000 },
];

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const socket = uniqueName('diffwatch-top');
const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const pane = (session: string): string => tmux('capture-pane', '-p', '-t', session).stdout ?? '';
const sq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

afterEach(async () => {
  await killAllDiffwatch();
  // Only this test's own tmux server (its private socket).
  tmux('kill-server');
});

/**
 * `diffwatch top` in a detached 120x40 session; returns the file its exit code goes to once it
 * ends (the session closes with it). ink draws frames only outside CI.
 */
function startTop(session: string, config: string, metricsUrl: string): string {
  const rcFile = join(mkdtempSync(join(tmpdir(), 'diffwatch-top-')), 'rc');
  const command = `cd ${sq(ROOT)} && env -u CI -u CONTINUOUS_INTEGRATION INFLUX_URL=${sq(influxUrl())} ${sq(process.execPath)} ${sq(BIN)} top --config ${sq(config)} --metrics ${sq(metricsUrl)} --interval 500; echo $? > ${sq(rcFile)}`;
  const r = tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', command);
  if (r.status !== 0) throw new Error(`tmux new-session: ${r.stderr}`);
  return rcFile;
}

/** Waits until the session has closed; its command's exit code. */
async function sessionExit(session: string, rcFile: string): Promise<string> {
  await waitUntil(() => tmux('has-session', '-t', session).status !== 0, { timeoutMs: 10_000, what: `tmux session ${session} closed` });
  return readFileSync(rcFile, 'utf8').trim();
}

/** Polls the pane until `predicate` holds for it; returns that screen, or fails with the last one. */
async function waitForPane(session: string, predicate: (screen: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
  let screen = '';
  try {
    await waitUntil(() => predicate((screen = pane(session))), { timeoutMs, intervalMs: 100, what });
  } catch (e) {
    throw new Error(`${(e as Error).message}; the screen:\n${screen}`);
  }
  return screen;
}

/** The cells of an entity's row: columns are separated by at least two spaces. */
function rowOf(screen: string, entity: string): string[] | undefined {
  const line = screen.split('\n').find((l) => l.startsWith(entity + ' '));
  return line?.trim().split(/\s{2,}/);
}

describe.skipIf(!hasTmux)('diffwatch top under tmux', () => {
  it('shows what InfluxDB holds per entity and the live pipeline, and quits on q (and Ctrl-C) with exit code 0', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueName('top-telemetry');
    const anomalies = uniqueName('top-anomalies');
    const database = uniqueName('top').replace(/-/g, '_');
    await createTopics(brokers, [topic, anomalies], 1);
    const env = { KAFKA_BROKERS: brokers.join(','), INFLUX_URL: influxUrl(), DIFFWATCH_LOG_LEVEL: 'info', DIFFWATCH_OPS_HTTP: '127.0.0.1:0' };
    const config = writeConfig({
      // Small fetches and writes stretch the run over several seconds, so that top sees it work.
      kafka: { topics: [topic], groupId: uniqueName('top-group'), commitIntervalMs: 200, maxBytesPerPartition: 2_048 },
      // An idle entity releases its last readings, so the committed offset reaches the end: lag 0.
      stream: { windowLength: WINDOW, hop: 1, entityIdleMs: 1_500 },
      scorer: { kind: 'baseline' },
      detect: { stateTopic: uniqueName('top-state'), threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 0 } },
      sinks: { anomaliesTopic: anomalies, influx: { database, batchSize: 200, maxBufferPoints: 400, flushIntervalMs: 50 } },
    });

    // The service first (so that top sees it work from the start); it ends on SIGTERM below.
    const service = startDiffwatch(['run', '--config', config, '--until-idle', '120'], env);
    const at = service.logs()[await service.waitForLog((r) => r.msg === 'operator endpoint listening', { what: 'the operator endpoint', timeoutMs: 60_000 })];
    const metricsUrl = `${String(at.url)}/metrics`;

    const session = 'top';
    const rcFile = startTop(session, config, metricsUrl);
    await waitForPane(session, (screen) => screen.includes('diffwatch top'), 'the top screen');

    const kafka = kafkaClient();
    for (const s of SERIES) await produceSeries(kafka, { topic, entity: s.entity, file: s.file, to: s.rows });

    // Live: some frame shows windows being scored.
    await waitForPane(session, (screen) => Number(/windows\/s (\d+\.\d)/.exec(screen)?.[1] ?? 0) > 0, 'a positive windows/s on screen', 60_000);

    // Every window durable, the lag drained: the rows are final.
    const influx = influxClient(database);
    for (const s of SERIES) {
      // A point's identity is its time, and the EC2 series repeats some timestamps: count distinct window ends.
      const windows = new Set(windowEndTimes(s.file, s.rows, WINDOW)).size;
      await service.waitFor(async () => (await countScores(influx, s.entity).catch(() => 0)) === windows, { what: `${s.entity} scored`, timeoutMs: 90_000, intervalMs: 200 });
    }
    await waitForPane(session, (screen) => /consumer lag {2}0 messages/.test(screen), 'consumer lag 0 on screen');

    for (const s of SERIES) {
      const [latest] = await influx.query<{ state: string; score: number; threshold: number; model_version: string }>(`SELECT * FROM "scores" WHERE "entity" = '${s.entity}' ORDER BY time DESC LIMIT 1`);
      const alerts = await influx.query<{ state: string; severity: string; kind: string }>(`SELECT * FROM "alerts" WHERE "entity" = '${s.entity}' GROUP BY "kind" ORDER BY time DESC LIMIT 1`);
      const open = alerts.filter((a) => isOpen({ ...a, entity: s.entity, time: 0 }));
      const state = displayState({ state: latest.state, modelVersion: latest.model_version });
      // The newest frame follows InfluxDB within one refresh.
      const screen = await waitForPane(session, (sc) => rowOf(sc, s.entity)?.[2] === formatNumber(latest.score), `${s.entity}'s latest score on screen`, 10_000);
      expect(rowOf(screen, s.entity)?.slice(0, 6), screen).toEqual([
        s.entity,
        state,
        formatNumber(latest.score),
        formatNumber(latest.threshold),
        latest.model_version,
        open.length === 0 ? '-' : expect.stringMatching(new RegExp(`^${open.length} (critical|warning|info) \\w+`)),
      ]);
    }
    const screen = await waitForPane(session, (sc) => sc.includes('readiness     ready'), 'readiness on screen');
    expect(screen).toMatch(/readings\/s \d+\.\d {3}windows\/s \d+\.\d/);
    expect(screen).toContain(metricsUrl);
    // The ec2 series ends inside an incident (threshold 6): an open alert on screen.
    expect(rowOf(screen, 'ec2-latency')?.[5]).toMatch(/^1 critical model/);

    expect(tmux('send-keys', '-t', session, 'q').status).toBe(0);
    expect(await sessionExit(session, rcFile)).toBe('0');

    service.kill('SIGTERM');
    expect((await service.exited).code).toBe(0);

    // After the run: the last state from InfluxDB, and /metrics said to be unreachable.
    const once = execFileSync(process.execPath, [BIN, 'top', '--config', config, '--metrics', metricsUrl, '--once'], { cwd: ROOT, env: { ...process.env, INFLUX_URL: influxUrl() }, encoding: 'utf8' });
    expect(rowOf(once, 'ec2-latency')?.[1]).toBeDefined();
    expect(once).toContain(`/metrics      unreachable at ${metricsUrl}: ECONNREFUSED`);

    // Ctrl-C quits as q does.
    const again = startTop('again', config, metricsUrl);
    await waitForPane('again', (sc) => sc.includes('ECONNREFUSED') && rowOf(sc, 'ec2-latency') !== undefined, 'the screen after the run');
    expect(tmux('send-keys', '-t', 'again', 'C-c').status).toBe(0);
    expect(await sessionExit('again', again)).toBe('0');
  });
});
