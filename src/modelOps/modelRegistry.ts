/**
 * The diffusion scorer of the service: every entity is scored by the model the config assigns
 * it (modelAssignment.ts), and the models the service makes itself are made here.
 *
 *   window ─ assign ─▶ dir model ──────────────────────────▶ scoreRouted ─▶ score @ version
 *                    ├▶ dir model + entity scaler (norm:<id>) ┘
 *                    └▶ trained model (entity:<id>, group:<name>)
 *                         none yet: collect coldStart.windows ─▶ train in background ─▶ swap in
 *                         live: normal windows ─▶ every fineTune.everyWindows ─▶ fine-tune ─▶ swap in
 *
 * Cold start: until its model (or scaler) exists, an entity's windows are warm-up scores
 * (version `none`) that never alert. Training runs on worker threads, `coldStart.maxConcurrent`
 * at a time. A finished version is written to the model store, loaded into every scoring
 * worker, and only then made live: the swap is one assignment between two scored batches
 * (batches are scored one after the other), so a batch is scored wholly by the old or wholly by
 * the new version, and each score carries the version that produced it. The old version is
 * freed once the batch in flight is done. A restarted service reads each key's live version
 * from the store and goes on with it: no second cold start.
 *
 * With several instances (a `kafka` client, `modelTopic` and `rowTopic` set) the store is the
 * models topic with the directory as its cache (kafkaModelStore.ts), and the rows a key collects
 * towards its cold start or fine-tunes on are kept in the row topic (rowLog.ts): an instance
 * that takes over a partition goes on with the same models, and resumes cold starts where the
 * previous owner left them. A version another instance writes for a key held here is swapped in.
 *
 * Example:
 *   const registry = await createModelRegistry({ config: cfg.scorer.diffusion, windowLength: 64, scorer, log });
 *   const scores = await registry.score(windows);      // scores[i].modelVersion per window
 *   registry.observe(detector.update(windows, scores, meta).scored);  // feeds fine-tuning
 */
import { basename } from 'node:path';
import type { Kafka } from 'kafkajs';
import type { DiffwatchConfig } from '../config/schema.ts';
import { rootLogger, type Logger } from '../log.ts';
import { METRICS, type Metrics } from '../metrics.ts';
import type { ScoredWindow, Scorer, Window, WindowScore } from '../types.ts';
import type { BackendPreference } from '../model/backend.ts';
import { trainInBackground, type TrainInBackgroundOptions } from './backgroundTrainer.ts';
import type { ScoreQuantiles } from '../model/checkpoint.ts';
import type { DiffusionScorer, LoadedModel, ScoringRoute } from './diffusionScorer.ts';
import { affineFor, readEntityScaler, writeEntityScaler } from './entityScaler.ts';
import { compileAssignment, type ModelRoute } from './modelAssignment.ts';
import { openKafkaModelStore } from './kafkaModelStore.ts';
import { createModelStore, type ModelStore } from './modelStore.ts';
import { RowCollector } from './rowCollector.ts';
import { openRowLog, type RowLog, type RowPurpose } from './rowLog.ts';
import type { TrainingResult } from './trainingWorker.ts';
import { createTrainingQueue } from './trainingQueue.ts';

type DiffusionConfig = DiffwatchConfig['scorer']['diffusion'];

/** The version of a warm-up score: no model has judged the window. */
export const NO_MODEL = 'none';

export interface ModelRegistryOptions {
  config: Readonly<DiffusionConfig>;
  /** stream.windowLength: the L of every model trained here. */
  windowLength: number;
  /** The worker pool every model is loaded into. */
  scorer: DiffusionScorer;
  metrics?: Metrics;
  /** Training on worker threads; replaceable in tests. */
  train?: (opts: TrainInBackgroundOptions) => Promise<TrainingResult>;
  log?: Logger;
  /** The service's client: with it, models and collected rows are shared through `modelTopic` and `rowTopic`. */
  kafka?: Kafka;
  /** ms between writes of collected rows to `rowTopic`. Default 5 000. */
  rowFlushMs?: number;
  /** The collected rows' log, replaceable in tests (default: opened on `kafka` when `rowTopic` is set). */
  rowLog?: RowLog;
  /** Opens the model store, replaceable in tests; `onRemote` is called when another instance wrote a version (default: on `kafka` when `modelTopic` is set). */
  openStore?: (local: ModelStore, onRemote: (key: string, version: string) => void) => Promise<ModelStore>;
}

export interface ModelRegistry extends Scorer {
  readonly name: 'diffusion';
  /** Route, score, and collect cold-start rows. */
  score(windows: readonly Window[]): Promise<WindowScore[]>;
  /** The detector's judgement of scored windows: the normal ones feed fine-tuning. */
  observe(scored: readonly ScoredWindow[]): void;
  /** Validation score quantiles of the entity's live model: where its calibration starts. */
  prior(entityId: string): ScoreQuantiles | undefined;
  /** The version the entity's next window is scored with (`none` before its first model). */
  versionOf(entityId: string): string;
  /** Drop cached state of entities whose partitions went elsewhere; a regained one re-reads the store. */
  forget(entityIds: readonly string[]): void;
  /** True while a cold start or fine-tune is under way. */
  training(): boolean;
  /** Model keys served by each live version (the `diffwatch_models` gauge). */
  liveVersions(): Map<string, number>;
  /** Resolves once no cold start or fine-tune is under way (each swapped in, or failed). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface Live {
  dir: string;
  version: string;
  model: LoadedModel;
  route: ScoringRoute;
}

interface KeyState {
  key: string;
  route: ModelRoute;
  live?: Live;
  /** Cold start: rows collected until the first model (or scaler) can be made. */
  collecting?: RowCollector;
  /** Fine-tuning: the most recent rows of windows judged normal. */
  recent?: RowCollector;
  normalSince: number;
  /** Rows of the current run of windows judged anomalous, and its length: a new normal once long enough. */
  shifted?: RowCollector;
  anomalousRun: number;
  busy: boolean;
  /** The training under way (at most one per key), for `coldStart.hold` and `fineTune.hold`. */
  job?: { why: 'cold start' | 'fine-tune' | 'new normal'; done: Promise<void> };
}

export async function createModelRegistry(opts: ModelRegistryOptions): Promise<ModelRegistry> {
  const cfg = opts.config;
  const L = opts.windowLength;
  const log = (opts.log ?? rootLogger.namespace('model')).namespace('registry');
  const train = opts.train ?? trainInBackground;
  const scorer = opts.scorer;
  const local: ModelStore | null = cfg.modelStore === null ? null : createModelStore(cfg.modelStore);
  const assign = compileAssignment(cfg);
  const queue = createTrainingQueue(cfg.coldStart.maxConcurrent);
  const jobs = new AbortController();
  const backend = cfg.backend as BackendPreference;
  const coldRows = cfg.coldStart.windows + L - 1;
  const recentRows = cfg.fineTune.recentWindows + L - 1;
  /** Rows a fine-tune needs at least: training and validation windows both (the split holds out a share). */
  const minFineTuneRows = Math.min(4 * L, recentRows);

  /** Checkpoints the operator trained, loaded once. */
  const dirModels = new Map<string, LoadedModel>();
  if (cfg.modelDir !== null) dirModels.set(cfg.modelDir, await scorer.load(cfg.modelDir));
  for (const r of cfg.models) if (r.use === 'dir' && !dirModels.has(r.dir)) dirModels.set(r.dir, await scorer.load(r.dir));

  const keys = new Map<string, KeyState>();
  /** Cold starts and fine-tunes under way, from collection done to swapped in (or failed). */
  const pending = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  /** The batch being scored: a swapped-out version is freed only after it. */
  let scoring: Promise<unknown> = Promise.resolve();

  // Opened once `keys` exists: the models topic's follower may report a remote version at once.
  const kafka = local ? opts.kafka : undefined;
  const onRemote = (key: string, version: string) => adoptRemote(key, version);
  const [store, rowLog] = await openShared();
  /** A key of one entity has one owner (the partition's); a group's rows come from many, so they stay in memory. */
  const persisted = (key: string) => rowLog !== null && (key.startsWith('entity:') || key.startsWith('norm:'));

  /** The model store and the rows' log; the two topics' followers join their groups side by side. */
  async function openShared(): Promise<[ModelStore | null, RowLog | null]> {
    const opened = await Promise.allSettled([
      local && opts.openStore ? opts.openStore(local, onRemote) : kafka && cfg.modelTopic !== null ? openKafkaModelStore({ kafka, topic: cfg.modelTopic, local: local!, log: log.namespace('store'), onRemote }) : local,
      opts.rowLog ?? (kafka && cfg.rowTopic !== null ? openRowLog({ kafka, topic: cfg.rowTopic, log: log.namespace('rows'), flushMs: opts.rowFlushMs }) : null),
    ]);
    const [s, r] = opened;
    if (s.status === 'fulfilled' && r.status === 'fulfilled') return [s.value, r.value];
    await Promise.allSettled(opened.map((o) => (o.status === 'fulfilled' ? o.value?.close() : undefined)));
    throw (s.status === 'rejected' ? s.reason : (r as PromiseRejectedResult).reason) as Error;
  }

  function dirModel(dir: string): LoadedModel {
    return dirModels.get(dir)!;
  }

  /** A key's state; on first sight, its live version from the store (a restart goes on with it). */
  async function stateOf(entityId: string): Promise<KeyState> {
    const route = assign(entityId);
    let k = keys.get(route.key);
    if (k) return k;
    k = { key: route.key, route, normalSince: 0, anomalousRun: 0, busy: false };
    keys.set(route.key, k);
    if (route.kind === 'dir' && !route.perEntityNormalization) {
      const model = dirModel(route.dir);
      k.live = { dir: route.dir, version: model.version, model, route: { modelDir: route.dir, version: model.version } };
      return k;
    }
    const current = await liveOf(route.key);
    if (current) {
      await install(k, current.dir, current.version, 'restored');
      if (k.live) {
        if (cfg.fineTune.everyWindows > 0 && route.kind === 'trained') k.recent = await collector(k.key, 'recent', recentRows);
        return k;
      }
    }
    k.collecting = await collector(k.key, 'cold', coldRows);
    log.info('cold start: collecting windows', { key: k.key, windows: cfg.coldStart.windows, resumedRows: k.collecting.size });
    if (k.collecting.size >= coldRows && !k.busy) coldStart(k);
    return k;
  }

  /** The key's live version; when the shared store cannot be read, what the local cache holds. */
  async function liveOf(key: string): Promise<{ version: string; dir: string } | undefined> {
    try {
      return await store!.live(key);
    } catch (e) {
      log.error('model store unreadable; going on with the local cache', { key, error: e });
      store!.refresh();
      return store!.current(key);
    }
  }

  /** A collector of the key's rows, resumed from the row topic and persisted to it as it grows. */
  async function collector(key: string, purpose: RowPurpose, capacity: number): Promise<RowCollector> {
    const rows = new RowCollector(capacity);
    if (!persisted(key)) return rows;
    try {
      const saved = await rowLog!.take(key, purpose);
      if (saved) rows.restore(saved);
    } catch (e) {
      log.error('collected rows unreadable; collecting again', { key, purpose, error: e });
      rowLog!.refresh();
    }
    rowLog!.attach(key, purpose, rows);
    return rows;
  }

  /** Collected rows that are no longer needed: the model they were for is live, or they start over. */
  function dropRows(key: string, purpose: RowPurpose): void {
    if (persisted(key)) rowLog!.drop(key, purpose);
  }

  /** Another instance wrote a version of a key held here (its previous owner, or a fine-tune there): swap it in. */
  function adoptRemote(key: string, version: string): void {
    const k = keys.get(key);
    // Neither live nor collecting: its first look-up is under way, and reads the newest version itself.
    if (!k || k.busy || (!k.live && !k.collecting) || (k.live && basename(k.live.dir) === version)) return;
    const cur = store!.current(key);
    if (!cur || cur.version !== version) return;
    k.busy = true;
    const done = install(k, cur.dir, version, 'written by another instance')
      .catch((e) => log.error('a version written by another instance could not be loaded', { key, version, error: e }))
      .finally(() => (k.busy = false));
    track(done);
  }

  /** Make `dir` the key's live version. */
  async function install(k: KeyState, dir: string, version: string, why: string): Promise<void> {
    const old = k.live;
    if (k.route.kind === 'dir') {
      const model = dirModel(k.route.dir);
      // The version names both: the shared network and this entity's scaler.
      const v = `${model.version}+${version.slice(0, 8)}`;
      k.live = { dir, version: v, model, route: { modelDir: k.route.dir, version: model.version, affine: affineFor(model, readEntityScaler(dir)) } };
    } else {
      const model = await scorer.load(dir);
      k.live = { dir, version: model.version, model, route: { modelDir: dir, version: model.version } };
      if (old && old.dir !== dir) void scoring.then(() => scorer.unload(old.dir)).catch((e) => log.warn('freeing a swapped-out model failed', { key: k.key, dir: old.dir, error: e }));
    }
    dropRows(k.key, 'cold'); // tombstones only for what the row topic holds
    k.collecting = undefined;
    k.normalSince = 0;
    k.anomalousRun = 0;
    k.shifted?.clear();
    log.info('model live', { key: k.key, version: k.live.version, previous: old?.version, why });
    opts.metrics?.inc(METRICS.modelSwaps, 1, { why });
  }

  /**
   * Run a key's cold start, fine-tune or adoption in the background: the key is busy until it ends;
   * a failure (not a shutdown) is logged and counted, and the live version stays.
   */
  function background(k: KeyState, why: 'cold start' | 'fine-tune' | 'new normal', job: () => Promise<void>, failed: string, onFail?: () => void): void {
    k.busy = true;
    const done = job()
      .catch((e) => {
        if (jobs.signal.aborted) return;
        log.error(failed, { key: k.key, error: e });
        opts.metrics?.inc(METRICS.modelTrainingFailures, 1, { why });
        onFail?.();
      })
      .finally(() => {
        k.busy = false;
        k.job = undefined;
      });
    k.job = { why, done };
    track(done);
  }

  /** Cold start done collecting: fit the scaler, or train the first model, in the background. */
  function coldStart(k: KeyState): void {
    const series = k.collecting!.series();
    const job = () => (k.route.kind === 'dir' ? fitScaler(k, series) : trainKey(k, series, 'cold start'));
    background(k, 'cold start', job, 'cold start failed; collecting again', () => {
      dropRows(k.key, 'cold');
      k.collecting = new RowCollector(coldRows);
      if (persisted(k.key)) rowLog!.attach(k.key, 'cold', k.collecting);
    });
  }

  async function fitScaler(k: KeyState, series: ReturnType<RowCollector['series']>): Promise<void> {
    const staging = store!.staging(k.key);
    const version = await writeEntityScaler(staging, series, k.route.kind === 'dir' ? dirModel(k.route.dir) : undefined);
    const dir = await store!.commit(k.key, staging, version);
    await install(k, dir, version, 'entity normalization fitted');
  }

  async function trainKey(k: KeyState, series: ReturnType<RowCollector['series']>, why: 'cold start' | 'fine-tune' | 'new normal'): Promise<void> {
    const staging = store!.staging(k.key);
    const base = k.live;
    const started = Date.now();
    const rows = series.timestamps.length; // the arrays are moved to the worker
    // A fine-tune keeps its parent's architecture: only the fitting settings are passed.
    // A new normal always refits the scaler: its level is what changed.
    const what =
      why !== 'cold start' && base
        ? { initFrom: base.dir, fineTune: { epochs: cfg.fineTune.epochs, refitNormalization: why === 'new normal' || cfg.fineTune.refitNormalization } }
        : { config: { ...cfg.coldStart.training, windowLength: L } };
    const result = await queue.run(() => train({ series, ...what, outDir: staging, backend, signal: jobs.signal, log }));
    const dir = await store!.commit(k.key, staging, result.version);
    log.info(why === 'cold start' ? 'cold start trained' : why === 'new normal' ? 'new normal adopted' : 'fine-tuned', { key: k.key, version: result.version, parent: base?.version, rows, ms: Date.now() - started });
    await install(k, dir, result.version, why);
  }

  function fineTune(k: KeyState): void {
    const series = k.recent!.series();
    k.normalSince = 0;
    background(k, 'fine-tune', () => trainKey(k, series, 'fine-tune'), 'fine-tuning failed; the live version stays');
  }

  /** A long run of anomalous windows is the new normal: fine-tune on it (or refit the entity's scaler). */
  function adopt(k: KeyState): void {
    const series = k.shifted!.series();
    log.warn('adopting a new normal', { key: k.key, windows: k.anomalousRun, version: k.live?.version });
    k.anomalousRun = 0;
    k.shifted!.clear();
    const job = () => (k.route.kind === 'dir' ? fitScaler(k, series) : trainKey(k, series, 'new normal'));
    background(k, 'new normal', job, 'adopting a new normal failed; the live version stays');
  }

  const adoptRows = cfg.fineTune.adoptAfterWindows + L - 1;

  /** Follow the judgement of one window of a key the service may retrain. */
  function follow(k: KeyState, s: ScoredWindow): void {
    const adoptAfter = cfg.fineTune.adoptAfterWindows;
    if (adoptAfter > 0) {
      if (s.detectorState === 'anomalous' && s.modelVersion === k.live!.version) {
        k.shifted ??= new RowCollector(adoptRows);
        k.shifted.add(s.window);
        k.anomalousRun++;
        if (!k.busy && k.anomalousRun >= adoptAfter) adopt(k);
      } else if (s.detectorState === 'normal') {
        k.anomalousRun = 0;
        k.shifted?.clear();
        k.shifted?.skip(s.window);
      }
    }
    if (cfg.fineTune.everyWindows === 0 || k.route.kind !== 'trained') return;
    if (!k.recent) {
      k.recent = new RowCollector(recentRows);
      if (persisted(k.key)) rowLog!.attach(k.key, 'recent', k.recent);
    }
    // The newest point of a window that is not normal (or was judged by another version) never becomes training data.
    if (s.detectorState !== 'normal' || s.modelVersion !== k.live!.version) {
      k.recent.skip(s.window);
      return;
    }
    k.recent.add(s.window);
    k.normalSince++;
    if (!k.busy && k.normalSince >= cfg.fineTune.everyWindows && k.recent.size >= minFineTuneRows) fineTune(k);
  }

  const warmupScore = (w: Window): WindowScore => ({ pointScores: new Float32Array(w.length), channelContributions: new Float32Array(w.channels.length), score: Number.NaN, warmup: true, modelVersion: NO_MODEL });

  async function scoreBatch(windows: readonly Window[]): Promise<WindowScore[]> {
    const states = await Promise.all(windows.map((w) => stateOf(w.entityId)));
    // Windows of keys without a model go to their cold start; they stay warm-up scores.
    const collected = new Set<number>();
    windows.forEach((w, i) => {
      const k = states[i];
      if (k.live || !k.collecting || k.busy || w.hasGap) return;
      k.collecting.add(w);
      collected.add(i);
      if (k.collecting.size >= coldRows) coldStart(k);
    });
    // A replay (a backfill) would otherwise run through thousands of windows while a model trains,
    // and where a new version takes over would depend on how fast the machine trains.
    const holds = (why: NonNullable<KeyState['job']>['why']) => (why === 'cold start' ? cfg.coldStart.hold : cfg.fineTune.hold);
    const held = [...new Set(states)].flatMap((k) => (k.job && holds(k.job.why) ? [k.job.done] : []));
    if (held.length > 0) await Promise.all(held);
    const live: number[] = [];
    const routes: ScoringRoute[] = [];
    const versions: string[] = []; // taken with the route: a swap during scoring does not relabel this batch
    const out: WindowScore[] = new Array(windows.length);
    windows.forEach((w, i) => {
      const k = states[i];
      if (!k.live || collected.has(i)) {
        out[i] = warmupScore(w);
        return;
      }
      live.push(i);
      routes.push(k.live.route);
      versions.push(k.live.version);
    });
    if (live.length > 0) {
      const scores = await scorer.scoreRouted(live.map((i) => windows[i]), routes);
      live.forEach((i, j) => (out[i] = { ...scores[j], modelVersion: versions[j] }));
    }
    return out;
  }

  return {
    name: 'diffusion',
    version: scorer.version,
    score(windows) {
      const p = scoreBatch(windows);
      scoring = p.catch(() => {});
      return p;
    },
    observe(scored) {
      if (cfg.fineTune.everyWindows === 0 && cfg.fineTune.adoptAfterWindows === 0) return;
      for (const s of scored) {
        const k = keys.get(assign(s.window.entityId).key);
        // An operator's shared model is never retrained here; an entity's own scaler may follow a new normal.
        if (!k?.live || (k.route.kind === 'dir' && !k.route.perEntityNormalization)) continue;
        follow(k, s);
      }
    },
    prior(entityId) {
      return keys.get(assign(entityId).key)?.live?.model.validationScores;
    },
    versionOf(entityId) {
      return keys.get(assign(entityId).key)?.live?.version ?? NO_MODEL;
    },
    forget(entityIds) {
      const gone: string[] = [];
      for (const id of entityIds) {
        const route = assign(id);
        // A group's or a shared model's state belongs to all its entities; only an entity's own key goes.
        if (route.key === `entity:${id}` || route.key === `norm:${id}`) keys.delete(route.key) && gone.push(route.key);
      }
      // A rebalance: a key seen next may have been trained or collected by its previous owner since.
      store?.refresh();
      rowLog?.refresh();
      if (gone.length > 0) void rowLog?.release(gone).catch((e) => log.warn('rows of released keys not written', { keys: gone.length, error: e }));
    },
    training: () => pending.size > 0,
    liveVersions() {
      const count = new Map<string, number>();
      for (const k of keys.values()) if (k.live) count.set(k.live.version, (count.get(k.live.version) ?? 0) + 1);
      return count;
    },
    async idle() {
      while (pending.size > 0) await Promise.all(pending);
    },
    async close() {
      jobs.abort(new Error('the service is stopping'));
      while (pending.size > 0) await Promise.all(pending);
      await rowLog?.close();
      await store?.close();
      await scorer.close();
    },
  };
}
