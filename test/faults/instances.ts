/**
 * `diffwatch run` instances of one group for the fault scenarios: a config for a known input, and
 * the waits every scenario needs (progress in InfluxDB, offsets at the end, a clean exit).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { uniqueName, waitUntil } from '../integration/helpers.ts';
import { ROOT, committedOffsets, endOffsets, exitWithin, writeConfig, type DiffwatchProcess } from '../integration/service/runHelpers.ts';
import { storedCount, type Input } from './faultHelpers.ts';

export interface Names {
  topic: string;
  anomalies: string;
  groupId: string;
  database: string;
  stateTopic: string;
}

export function names(prefix: string): Names {
  return {
    topic: uniqueName(`${prefix}-telemetry`),
    anomalies: uniqueName(`${prefix}-anomalies`),
    groupId: uniqueName(`${prefix}-group`),
    database: uniqueName(prefix).replace(/-/g, '_'),
    stateTopic: uniqueName(`${prefix}-state`),
  };
}

/**
 * The service config of a scenario: JSON input, baseline scorer, window L and hop 1, lateness 0.
 * Short session and heartbeat so that a killed member is evicted in seconds. The idle expiry
 * (`entityIdleMs`, default 15 s) must outlast every pause of the input within a scenario (an
 * entity silent that long is dropped with its buffer, and its next windows need L new readings),
 * and it bounds how long after the last reading the commit reaches the end.
 */
export function scenarioConfig(n: Names, input: Input, over: { kafka?: object; sinks?: { influx?: object }; ingest?: object; entityIdleMs?: number } = {}): string {
  return writeConfig({
    kafka: { topics: [n.topic], groupId: n.groupId, commitIntervalMs: 200, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, ...over.kafka },
    ingest: { format: 'json', ...over.ingest },
    stream: { windowLength: input.window, hop: 1, allowedLatenessMs: 0, entityIdleMs: over.entityIdleMs ?? 15_000 },
    scorer: { kind: 'baseline' },
    detect: { stateTopic: n.stateTopic, threshold: { method: 'fixed', fixedThreshold: 6, warmupWindows: 0 } },
    sinks: { anomaliesTopic: n.anomalies, influx: { database: n.database, flushIntervalMs: 100, ...over.sinks?.influx } },
  });
}

/** Polls InfluxDB until it holds at least `n` scores. */
export async function untilStored(database: string, n: number, what: string, timeoutMs = 120_000, url?: string): Promise<void> {
  await waitUntil(async () => (await storedCount(database, url)) >= n, { timeoutMs, intervalMs: 250, what: `${n} scores in InfluxDB: ${what}` });
}

/** Polls until the group's committed offset of every partition is the partition's end. */
export async function untilCommittedToEnd(kafka: Kafka, n: Names, timeoutMs = 60_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let last = '';
    await waitUntil(
      async () => {
        const [ends, done] = await Promise.all([endOffsets(admin, n.topic), committedOffsets(admin, n.groupId, n.topic)]);
        last = [...ends].map(([p, end]) => `${p}:${done.get(p)}/${end}`).join(' ');
        return [...ends].every(([p, end]) => end === 0n || done.get(p) === end);
      },
      { timeoutMs, intervalMs: 250, what: 'committed offsets at the end' },
    ).catch((e) => {
      throw new Error(`${(e as Error).message} (committed/end by partition: ${last})`);
    });
  } finally {
    await admin.disconnect();
  }
}

/** Sends SIGTERM and expects a clean exit (it drains, commits and leaves the group). */
export async function stopCleanly(p: DiffwatchProcess, what: string, timeoutMs = 60_000): Promise<void> {
  p.kill('SIGTERM');
  const exit = await exitWithin(p, timeoutMs, what);
  if (exit.code !== 0) throw new Error(`${what} exited ${exit.code ?? exit.signal}\n${exit.stderr.slice(-3_000)}`);
}

/** Counter `name` summed over the `stopped` log lines of the given instances. */
export function stoppedCounter(ps: readonly DiffwatchProcess[], name: string): number {
  let total = 0;
  for (const p of ps) {
    const rec = p.logs().find((r) => r.msg === 'stopped');
    const metrics = (rec?.metrics ?? {}) as Record<string, number>;
    for (const [k, v] of Object.entries(metrics)) if (k.split('{')[0] === name) total += v;
  }
  return total;
}

/** Waits until `p` has logged a group join at index >= from; returns the index after it. */
export async function joined(p: DiffwatchProcess, what: string, from = 0): Promise<number> {
  return 1 + (await p.waitForLog((r) => r.msg === 'group joined', { what, from, timeoutMs: 60_000 }));
}

/** Writes each instance's stderr to out/faults/<scenario>-<i>.log, for a failure's post-mortem. */
export function saveLogs(scenario: string, ps: readonly DiffwatchProcess[]): void {
  const dir = join(ROOT, 'out/faults');
  mkdirSync(dir, { recursive: true });
  ps.forEach((p, i) => writeFileSync(join(dir, `${scenario}-${i}.log`), p.stderrTail(50_000_000)));
}

/** The sum of metric `name` (all label sets) on the instance's /metrics; NaN before it serves. */
export async function metricOf(p: DiffwatchProcess, name: string): Promise<number> {
  const url = p.logs().find((r) => r.msg === 'operator endpoint listening')?.url as string | undefined;
  if (!url) return NaN;
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = NaN;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !/^[^{ ]+(\{[^}]*\})? /.test(line) || line.split(/[{ ]/)[0] !== name) continue;
    total = (Number.isNaN(total) ? 0 : total) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
