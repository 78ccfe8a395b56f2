/**
 * The model registry with a fake worker pool and a fake trainer: routing, cold start, restart
 * from the store, fine-tuning and the atomic swap. The real pool and trainer are covered by
 * their own tests and, end to end, by test/integration/modelOps/coldStart.test.ts.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config/schema.ts';
import { METRICS, Metrics } from '../../../src/metrics.ts';
import type { TrainInBackgroundOptions } from '../../../src/modelOps/backgroundTrainer.ts';
import type { DiffusionScorer, LoadedModel, ScoringRoute } from '../../../src/modelOps/diffusionScorer.ts';
import { createModelRegistry, NO_MODEL } from '../../../src/modelOps/modelRegistry.ts';
import type { ModelStore } from '../../../src/modelOps/modelStore.ts';
import { RowCollector } from '../../../src/modelOps/rowCollector.ts';
import type { RowLog, SavedRows } from '../../../src/modelOps/rowLog.ts';
import type { TrainingResult } from '../../../src/modelOps/trainingWorker.ts';
import type { ScoredWindow, Window } from '../../../src/types.ts';
import { captureLogger } from '../model/helpers.ts';

const L = 4;

function win(entityId: string, t: number, values: number[] = [t, 2 * t], channels = ['a', 'b']): Window {
  // L points ending at t, one per ms; values[c] + i offsets so that rows differ.
  const C = channels.length;
  const v = new Float32Array(L * C);
  for (let i = 0; i < L; i++) for (let c = 0; c < C; c++) v[i * C + c] = values[c] + i - (L - 1);
  return { entityId, channels, length: L, startTime: t - L + 1, endTime: t, timestamps: Float64Array.from({ length: L }, (_, i) => t - L + 1 + i), values: v, hasGap: false, sources: [], releases: [] };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A pool that "scores" a window as its route's version length plus the affine-mapped newest value of channel 0. */
function fakePool(opts: { normalization?: LoadedModel['normalization']; gate?: () => Promise<void> } = {}) {
  const loads: string[] = [];
  const unloads: string[] = [];
  const routed: ScoringRoute[][] = [];
  const pool: DiffusionScorer = {
    name: 'diffusion',
    version: '',
    channels: [],
    windowLength: 0,
    backend: 'wasm',
    conv: 'conv1d',
    async load(dir) {
      loads.push(dir);
      return { modelDir: dir, version: basename(dir), channels: ['a', 'b'], windowLength: L, normalization: opts.normalization ?? { center: [0, 0], scale: [1, 1] }, validationScores: { windows: 10, p50: 1, p90: 2, p95: 3, p99: 4, p999: 5, max: 6 } };
    },
    async unload(dir) {
      unloads.push(dir);
    },
    async scoreRouted(windows, routes) {
      routed.push([...routes]);
      await opts.gate?.();
      return windows.map((w, i) => {
        const a = routes[i].affine;
        const x = w.values[(L - 1) * 2];
        return { pointScores: new Float32Array(L), channelContributions: new Float32Array(2), score: a ? a.gain[0] * x + a.offset[0] : x, warmup: false };
      });
    },
    score: async () => [],
    scorePacked: async () => ({ pointScores: new Float32Array(0), channelContributions: new Float32Array(0), windowScores: new Float32Array(0) }),
    memory: async () => [],
    close: async () => {},
  };
  return { pool, loads, unloads, routed };
}

/** A trainer that writes a marker checkpoint and names versions v1, v2, …; `hold` keeps jobs waiting. */
function fakeTrainer(hold?: () => Promise<void>) {
  const calls: TrainInBackgroundOptions[] = [];
  let running = 0;
  let maxRunning = 0;
  const train = async (o: TrainInBackgroundOptions): Promise<TrainingResult> => {
    calls.push(o);
    running++;
    maxRunning = Math.max(maxRunning, running);
    try {
      await hold?.();
      if (o.signal?.aborted) throw new Error('cancelled');
      await mkdir(o.outDir, { recursive: true });
      await writeFile(join(o.outDir, 'manifest.json'), '{}');
      const version = `v${calls.length}`;
      return { version, dir: o.outDir, backend: 'wasm', manifest: {} as TrainingResult['manifest'] };
    } finally {
      running--;
    }
  };
  return { train, calls, maxRunning: () => maxRunning };
}

function config(over: Partial<typeof DEFAULTS.scorer.diffusion> = {}) {
  const store = mkdtempSync(join(tmpdir(), 'dw-registry-'));
  return { ...DEFAULTS.scorer.diffusion, modelStore: store, coldStart: { windows: 5, training: { epochs: 2 }, maxConcurrent: 1, hold: false }, ...over };
}

const normal = (w: Window, modelVersion: string): ScoredWindow => ({ window: w, score: { pointScores: new Float32Array(L), channelContributions: new Float32Array(2), score: 0, warmup: false }, threshold: 1, isAnomaly: false, scorer: 'diffusion', modelVersion, detectorState: 'normal' });

describe('modelRegistry', () => {
  it('cold start: warm-up scores until coldStart.windows windows, one background training, then the new version', async () => {
    const cfg = config();
    const { pool } = fakePool();
    const trainer = fakeTrainer();
    const metrics = new Metrics();
    const reg = await createModelRegistry({ config: cfg, windowLength: L, scorer: pool, train: trainer.train, log: captureLogger(), metrics });
    const versions: string[] = [];
    for (let t = 10; t < 14; t++) versions.push(...(await reg.score([win('m1', t)])).map((s) => s.modelVersion!));
    expect(versions).toEqual([NO_MODEL, NO_MODEL, NO_MODEL, NO_MODEL]);
    expect(trainer.calls).toHaveLength(0);
    const fifth = await reg.score([win('m1', 14)]);
    expect(fifth[0]).toMatchObject({ warmup: true, modelVersion: NO_MODEL });
    expect(Number.isNaN(fifth[0].score)).toBe(true);
    await reg.idle();
    expect(trainer.calls).toHaveLength(1);
    const job = trainer.calls[0];
    // 5 windows of 4 points, hop 1: 8 distinct rows, each once, in time order.
    expect(Array.from(job.series.timestamps)).toEqual([7, 8, 9, 10, 11, 12, 13, 14]);
    expect(job.series.channels).toEqual(['a', 'b']);
    expect(job.config).toMatchObject({ epochs: 2, windowLength: L });
    expect(job.fineTune).toBeUndefined();
    expect(job.initFrom).toBeUndefined();
    // The store names it live, and the next window is scored by it.
    expect(readFileSync(join(cfg.modelStore!, 'entity-m1', 'CURRENT'), 'utf8').trim()).toBe('v1');
    const next = await reg.score([win('m1', 15)]);
    expect(next[0]).toMatchObject({ warmup: false, modelVersion: 'v1', score: 15 });
    expect(reg.versionOf('m1')).toBe('v1');
    expect(reg.prior('m1')?.p99).toBe(4);
    expect(metrics.snapshot()).toEqual({ [`${METRICS.modelSwaps}{why="cold start"}`]: 1 });
    await reg.close();
  });

  it('coldStart.hold: the windows after the last collected one wait for the model and are scored by it', async () => {
    const cfg = config();
    const held = { ...cfg, coldStart: { ...cfg.coldStart, hold: true } };
    const trainer = fakeTrainer();
    const reg = await createModelRegistry({ config: held, windowLength: L, scorer: fakePool().pool, train: trainer.train, log: captureLogger() });
    // One batch: windows 10–14 complete the cold start, 15–17 come after it in the same batch.
    const s = await reg.score([10, 11, 12, 13, 14, 15, 16, 17].map((t) => win('m1', t)));
    expect(s.map((x) => x.modelVersion)).toEqual(['none', 'none', 'none', 'none', 'none', 'v1', 'v1', 'v1']);
    expect(trainer.calls).toHaveLength(1);
    await reg.close();
    // Without hold the same batch leaves the later windows in warm-up while the model trains.
    const free = await createModelRegistry({ config: config(), windowLength: L, scorer: fakePool().pool, train: fakeTrainer().train, log: captureLogger() });
    expect((await free.score([10, 11, 12, 13, 14, 15, 16, 17].map((t) => win('m1', t)))).map((x) => x.modelVersion)).toEqual(Array(8).fill('none'));
    await free.close();
  });

  it('a restarted registry goes on with the stored version: no second cold start', async () => {
    const cfg = config();
    const first = fakeTrainer();
    const a = await createModelRegistry({ config: cfg, windowLength: L, scorer: fakePool().pool, train: first.train, log: captureLogger() });
    for (let t = 10; t < 15; t++) await a.score([win('m1', t)]);
    await a.idle();
    await a.close();

    const second = fakeTrainer();
    const b = await createModelRegistry({ config: cfg, windowLength: L, scorer: fakePool().pool, train: second.train, log: captureLogger() });
    const s = await b.score([win('m1', 20)]);
    expect(s[0]).toMatchObject({ warmup: false, modelVersion: 'v1' });
    expect(second.calls).toHaveLength(0);
    await b.close();
  });

  it('an entity id too long to spell out as a folder trains, stores and restarts like any other', async () => {
    // 256 four-byte characters: spelled out, 3,079 bytes, past the 255-byte file-name limit.
    const id = '\u{1F525}'.repeat(256);
    const cfg = config();
    const a = await createModelRegistry({ config: cfg, windowLength: L, scorer: fakePool().pool, train: fakeTrainer().train, log: captureLogger() });
    for (let t = 10; t < 15; t++) await a.score([win(id, t)]);
    await a.idle();
    expect(a.versionOf(id)).toBe('v1');
    await a.close();
    const [folder, ...others] = readdirSync(cfg.modelStore!);
    expect(others).toEqual([]);
    expect(Buffer.byteLength(folder)).toBeLessThanOrEqual(200);

    const second = fakeTrainer();
    const b = await createModelRegistry({ config: cfg, windowLength: L, scorer: fakePool().pool, train: second.train, log: captureLogger() });
    expect((await b.score([win(id, 20)]))[0]).toMatchObject({ warmup: false, modelVersion: 'v1' });
    expect(second.calls).toHaveLength(0);
    await b.close();
  });

  it('fine-tunes on normal windows only, from the live checkpoint, and swaps the new version in', async () => {
    const cfg = config({ fineTune: { everyWindows: 3, recentWindows: 3, epochs: 2, refitNormalization: true, hold: false, adoptAfterWindows: 0 } });
    const { pool, unloads } = fakePool();
    const trainer = fakeTrainer();
    const reg = await createModelRegistry({ config: cfg, windowLength: L, scorer: pool, train: trainer.train, log: captureLogger() });
    for (let t = 10; t < 15; t++) await reg.score([win('m1', t)]);
    await reg.idle();
    const liveDir = join(cfg.modelStore!, 'entity-m1', 'v1');
    // Two normal windows and an anomalous one: not enough normal windows yet.
    for (let t = 15; t < 18; t++) {
      const w = win('m1', t);
      const [s] = await reg.score([w]);
      reg.observe([t === 16 ? { ...normal(w, s.modelVersion!), detectorState: 'anomalous' } : normal(w, s.modelVersion!)]);
    }
    expect(trainer.calls).toHaveLength(1);
    const w = win('m1', 18);
    reg.observe([normal(w, (await reg.score([w]))[0].modelVersion!)]);
    await reg.idle();
    expect(trainer.calls).toHaveLength(2);
    const ft = trainer.calls[1];
    expect(ft.initFrom).toBe(liveDir);
    expect(ft.fineTune).toEqual({ epochs: 2, refitNormalization: true });
    expect(ft.config).toBeUndefined();
    // Rows of the normal windows 15, 17 and 18; window 16's new row (16) is not among them.
    expect(Array.from(ft.series.timestamps)).not.toContain(16);
    expect(Array.from(ft.series.timestamps)).toContain(18);
    const [after] = await reg.score([win('m1', 19)]);
    expect(after.modelVersion).toBe('v2');
    expect(readFileSync(join(cfg.modelStore!, 'entity-m1', 'CURRENT'), 'utf8').trim()).toBe('v2');
    await Promise.resolve();
    expect(unloads).toEqual([liveDir]);
    await reg.close();
  });

  it('fineTune.hold: a window scored while a fine-tune trains waits for it and is scored by the new version', async () => {
    /** Cold start, then normal windows until the fine-tune starts; the next window's score, and the gate the fine-tune waits at. */
    async function fineTuneUnderWay(hold: boolean) {
      const gate = deferred<void>();
      let calls = 0;
      const trainer = fakeTrainer(() => (++calls === 1 ? Promise.resolve() : gate.promise));
      const cfg = config({ fineTune: { everyWindows: 1, recentWindows: 4, epochs: 1, refitNormalization: false, hold, adoptAfterWindows: 0 } });
      const reg = await createModelRegistry({ config: cfg, windowLength: L, scorer: fakePool().pool, train: trainer.train, log: captureLogger() });
      for (let t = 10; t < 15; t++) await reg.score([win('m1', t)]);
      await reg.idle();
      let t = 15;
      while (!reg.training() && t < 40) {
        const w = win('m1', t++);
        reg.observe([normal(w, (await reg.score([w]))[0].modelVersion!)]);
      }
      expect(reg.training(), 'a fine-tune started').toBe(true);
      return { reg, gate, next: reg.score([win('m1', t)]) };
    }
    const held = await fineTuneUnderWay(true);
    let scored = false;
    void held.next.then(() => (scored = true));
    await new Promise((r) => setImmediate(r));
    expect(scored, 'scored before the fine-tune finished').toBe(false);
    held.gate.resolve();
    expect((await held.next)[0].modelVersion).toBe('v2');
    await held.reg.close();
    // Without hold the same window is scored at once by the live version while the fine-tune trains.
    const free = await fineTuneUnderWay(false);
    expect((await free.next)[0].modelVersion).toBe('v1');
    free.gate.resolve();
    await free.reg.close();
  });

  it('the swap is atomic: a batch in flight keeps the old version, which is freed only after it', async () => {
    const cfg = config({ fineTune: { everyWindows: 1, recentWindows: 4, epochs: 1, refitNormalization: false, hold: false, adoptAfterWindows: 0 } });
    let gate: Deferred<void> | undefined;
    const { pool, unloads } = fakePool({ gate: () => gate?.promise ?? Promise.resolve() });
    let hold: Deferred<void> | undefined;
    const trainer = fakeTrainer(() => hold?.promise ?? Promise.resolve());
    const reg = await createModelRegistry({ config: cfg, windowLength: L, scorer: pool, train: trainer.train, log: captureLogger() });
    for (let t = 10; t < 15; t++) await reg.score([win('m1', t)]);
    await reg.idle();
    hold = deferred();
    for (let t = 15; t < 20; t++) {
      const w = win('m1', t);
      reg.observe([normal(w, (await reg.score([w]))[0].modelVersion!)]);
    }
    expect(trainer.calls).toHaveLength(2); // the fine-tune is running, held
    gate = deferred();
    const inFlight = reg.score([win('m1', 20), win('m1', 21)]);
    hold.resolve();
    await reg.idle(); // v2 is live now, while the batch is still being scored
    expect(reg.versionOf('m1')).toBe('v2');
    expect(unloads).toEqual([]);
    gate.resolve();
    const scores = await inFlight;
    expect(scores.map((s) => s.modelVersion)).toEqual(['v1', 'v1']);
    await new Promise((r) => setImmediate(r));
    expect(unloads).toEqual([join(cfg.modelStore!, 'entity-m1', 'v1')]);
    gate = undefined;
    expect((await reg.score([win('m1', 22)]))[0].modelVersion).toBe('v2');
    await reg.close();
  });

  it('a long run of anomalous windows is adopted as the new normal: fine-tuned on with a refitted scaler', async () => {
    const cfg = config({ fineTune: { everyWindows: 0, recentWindows: 4, epochs: 2, refitNormalization: false, hold: false, adoptAfterWindows: 4 } });
    const trainer = fakeTrainer();
    const reg = await createModelRegistry({ config: cfg, windowLength: L, scorer: fakePool().pool, train: trainer.train, log: captureLogger() });
    for (let t = 10; t < 15; t++) await reg.score([win('m1', t)]);
    await reg.idle();
    const judge = async (t: number, state: 'normal' | 'anomalous') => {
      const w = win('m1', t);
      reg.observe([{ ...normal(w, (await reg.score([w]))[0].modelVersion!), detectorState: state }]);
    };
    // Three anomalous windows, a normal one (the run restarts), then four anomalous ones.
    for (let t = 15; t < 18; t++) await judge(t, 'anomalous');
    await judge(18, 'normal');
    for (let t = 19; t < 22; t++) await judge(t, 'anomalous');
    expect(trainer.calls).toHaveLength(1);
    await judge(22, 'anomalous');
    await reg.idle();
    expect(trainer.calls).toHaveLength(2);
    const job = trainer.calls[1];
    expect(job.initFrom).toBe(join(cfg.modelStore!, 'entity-m1', 'v1'));
    // The scaler is refitted even though fineTune.refitNormalization is false: the level is what changed.
    expect(job.fineTune).toEqual({ epochs: 2, refitNormalization: true });
    // Rows of the second run only (windows 19–22), not of the first run before the normal window.
    expect(Math.min(...job.series.timestamps)).toBeGreaterThan(18);
    expect(Array.from(job.series.timestamps)).toContain(22);
    expect((await reg.score([win('m1', 23)]))[0].modelVersion).toBe('v2');
    await reg.close();
  });

  it('a group trains one model for all its entities; training jobs never overlap beyond maxConcurrent', async () => {
    const cfg = config({ models: [{ match: '^fan-', use: 'group', group: 'fans' }] });
    const trainer = fakeTrainer();
    const reg = await createModelRegistry({ config: cfg, windowLength: L, scorer: fakePool().pool, train: trainer.train, log: captureLogger() });
    for (let t = 10; t < 13; t++) await reg.score([win('fan-1', t), win('fan-2', t), win('m1', t)]);
    for (let t = 13; t < 15; t++) await reg.score([win('m1', t)]);
    await reg.idle();
    expect(trainer.calls.map((c) => basename(join(c.outDir, '..')))).toEqual(['group-fans', 'entity-m1']);
    expect(trainer.maxRunning()).toBe(1);
    const s = await reg.score([win('fan-1', 30), win('fan-2', 30), win('fan-3', 30), win('m1', 30)]);
    expect(s.map((x) => x.modelVersion)).toEqual(['v1', 'v1', 'v1', 'v2']);
    await reg.close();
  });

  it('a shared model with per-entity normalization: each entity scored in its own scale, stored and restored', async () => {
    const base = mkdtempSync(join(tmpdir(), 'dw-base-'));
    const cfg = config({ modelDir: null, models: [{ match: '.*', use: 'dir', dir: base, normalization: 'entity' }] });
    const { pool } = fakePool({ normalization: { center: [100, 0], scale: [10, 1] } });
    const trainer = fakeTrainer();
    const reg = await createModelRegistry({ config: cfg, windowLength: L, scorer: pool, train: trainer.train, log: captureLogger() });
    // Entity e1 runs around 1,000 with spread; its scaler is fitted on its own rows.
    for (let t = 10; t < 15; t++) expect((await reg.score([win('e1', t, [1_000 + t, 0])]))[0].modelVersion).toBe(NO_MODEL);
    await reg.idle();
    expect(trainer.calls).toHaveLength(0);
    const [s] = await reg.score([win('e1', 15, [1_015, 0])]);
    const baseVersion = basename(base);
    expect(s.modelVersion).toMatch(new RegExp(`^${baseVersion}\\+[0-9a-f]{8}$`));
    // Rows at t = 7 … 14 hold 1,000 + t: median 1,010.5 → the model sees (x - 1,010.5)/s_e, mapped into its own units: 100 + 10·(x - 1,010.5)/s_e.
    const saved = JSON.parse(readFileSync(join(cfg.modelStore!, 'norm-e1', readFileSync(join(cfg.modelStore!, 'norm-e1', 'CURRENT'), 'utf8').trim(), 'normalization.json'), 'utf8'));
    expect(saved.scaler.center[0]).toBe(1_010.5);
    const sE = saved.scaler.scale[0];
    expect(sE).toBeGreaterThan(1);
    expect(s.score).toBeCloseTo(100 + (10 * (1_015 - 1_010.5)) / sE, 3);
    await reg.close();
    const again = await createModelRegistry({ config: cfg, windowLength: L, scorer: fakePool({ normalization: { center: [100, 0], scale: [10, 1] } }).pool, train: trainer.train, log: captureLogger() });
    expect((await again.score([win('e1', 40, [1_015, 0])]))[0].modelVersion).toBe(s.modelVersion);
    await again.close();
  });

  it('a failed cold start is logged and collects again; the entity stays in warm-up', async () => {
    const cfg = config();
    let fail = true;
    const ok = fakeTrainer();
    const train = async (o: TrainInBackgroundOptions) => {
      if (fail) throw new Error('series too short');
      return ok.train(o);
    };
    const log = captureLogger();
    const metrics = new Metrics();
    const reg = await createModelRegistry({ config: cfg, windowLength: L, scorer: fakePool().pool, train, log, metrics });
    for (let t = 10; t < 15; t++) await reg.score([win('m1', t)]);
    await reg.idle();
    await new Promise((r) => setImmediate(r));
    expect(log.lines.some((l) => l.level === 'error' && l.msg.includes('cold start failed'))).toBe(true);
    expect(existsSync(join(cfg.modelStore!, 'entity-m1', 'CURRENT'))).toBe(false);
    expect(metrics.total(METRICS.modelTrainingFailures)).toBe(1);
    fail = false;
    for (let t = 15; t < 20; t++) expect((await reg.score([win('m1', t)]))[0].modelVersion).toBe(NO_MODEL);
    await reg.idle();
    expect((await reg.score([win('m1', 20)]))[0].modelVersion).toBe('v1');
    await reg.close();
  });
});

/** A row log in memory: what `take` returns, and every call. */
function fakeRowLog(saved: Map<string, SavedRows>) {
  const calls: string[] = [];
  const rowLog: RowLog = {
    take: async (key, purpose) => (calls.push(`take ${key}#${purpose}`), saved.get(`${key}#${purpose}`)),
    attach: (key, purpose) => void calls.push(`attach ${key}#${purpose}`),
    drop: (key, purpose) => void calls.push(`drop ${key}#${purpose}`),
    release: async (keys) => void calls.push(`release ${keys.join(',')}`),
    refresh: () => void calls.push('refresh'),
    flush: async () => {},
    close: async () => void calls.push('close'),
  };
  return { rowLog, calls };
}

describe('modelRegistry with collected rows in a row log', () => {
  it('resumes a cold start from the saved rows: trains after only the remainder, on the same series as without a stop', async () => {
    // The previous owner took windows ending 10 and 11: rows 7..11.
    const before = new RowCollector(5 + L - 1);
    before.add(win('m1', 10));
    before.add(win('m1', 11));
    const s = before.series();
    const { rowLog, calls } = fakeRowLog(new Map([['entity:m1#cold', { channels: s.channels, values: s.values, timestamps: s.timestamps, newest: before.newestTimes(), appended: before.appended }]]));
    const trainer = fakeTrainer();
    const log = captureLogger();
    const reg = await createModelRegistry({ config: config(), windowLength: L, scorer: fakePool().pool, train: trainer.train, log, rowLog });
    // Window 11 is read again (its offset was not committed): nothing is added twice.
    for (const t of [11, 12, 13]) await reg.score([win('m1', t)]);
    expect(trainer.calls).toHaveLength(0);
    await reg.score([win('m1', 14)]);
    await reg.idle();
    expect(trainer.calls).toHaveLength(1);
    expect(Array.from(trainer.calls[0].series.timestamps)).toEqual([7, 8, 9, 10, 11, 12, 13, 14]);
    expect(log.lines.find((r) => r.msg === 'cold start: collecting windows')?.fields).toMatchObject({ key: 'entity:m1', resumedRows: 5 });
    // Persisted as it grew; tombstoned once trained.
    expect(calls.slice(0, 2)).toEqual(['take entity:m1#cold', 'attach entity:m1#cold']);
    expect(calls).toContain('drop entity:m1#cold');
    // A rebalance: the next entity first catches up with the log again; a lost entity's rows are written out.
    reg.forget(['m1']);
    expect(calls.slice(-2)).toEqual(['refresh', 'release entity:m1']);
    await reg.close();
    expect(calls.at(-1)).toBe('close');
  });

  it('a group’s rows stay in memory: several instances collect them', async () => {
    const { rowLog, calls } = fakeRowLog(new Map());
    const reg = await createModelRegistry({ config: config({ models: [{ match: '^f', use: 'group', group: 'fans' }] }), windowLength: L, scorer: fakePool().pool, train: fakeTrainer().train, log: captureLogger(), rowLog });
    await reg.score([win('f1', 10)]);
    expect(calls.filter((c) => c.startsWith('take') || c.startsWith('attach'))).toEqual([]);
    await reg.close();
  });
});

describe('modelRegistry with a store shared between instances', () => {
  it('swaps in a version another instance wrote for a key held here; one reported during the key’s first look-up is left to the look-up', async () => {
    let remote!: (key: string, version: string) => void;
    let store!: ModelStore;
    let gate: Deferred<void> | undefined;
    const openStore = async (local: ModelStore, onRemote: (key: string, version: string) => void): Promise<ModelStore> => {
      remote = onRemote;
      store = { ...local, live: async (key) => (await gate?.promise, local.current(key)) };
      return store;
    };
    const { pool, loads } = fakePool();
    const reg = await createModelRegistry({ config: config(), windowLength: L, scorer: pool, train: fakeTrainer().train, log: captureLogger(), openStore });
    for (let t = 10; t < 15; t++) await reg.score([win('m1', t)]);
    await reg.idle();
    expect(reg.versionOf('m1')).toBe('v1');

    // Another instance's version, already in the cache (as the follower leaves it).
    const staging = store.staging('entity:m1');
    await mkdir(staging, { recursive: true });
    await writeFile(join(staging, 'manifest.json'), '{}');
    await store.commit('entity:m1', staging, 'r1');
    remote('entity:m1', 'r1');
    await reg.idle();
    expect(reg.versionOf('m1')).toBe('r1');
    expect(loads.at(-1)).toBe(store.current('entity:m1')!.dir);
    remote('entity:m1', 'r1'); // the same again: nothing to do
    expect(reg.training()).toBe(false);

    // While m2 is first looked up, the follower reads an older version, then a newer one.
    const put = async (version: string) => {
      const dir = store.staging('entity:m2');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'manifest.json'), '{}');
      return store.commit('entity:m2', dir, version);
    };
    gate = deferred<void>();
    const scoring = reg.score([win('m2', 10)]);
    await new Promise((r) => setImmediate(r));
    const older = await put('old');
    remote('entity:m2', 'old');
    await put('new');
    gate.resolve();
    expect((await scoring)[0].modelVersion).toBe('new');
    await reg.idle();
    expect(reg.versionOf('m2')).toBe('new');
    expect(loads).not.toContain(older);
    await reg.close();
  });
});

