/**
 * The composition root: Kafka input → stream operators → scorer → sinks, with acks flowing
 * back to the offsets. It reads like a table of contents; each step lives in its own module.
 *
 *   consumerRunner ──readings──▶ windowsByEntity ──▶ batchWhileBusy ──▶ scorer ──▶ detector
 *        ▲                                                                      │
 *        └── release(window.releases), state snapshots ◀── influx + anomalies acked
 */
import { Partitioners, type Kafka } from 'kafkajs';
import { Subject, from, map, mergeMap, tap } from 'rxjs';
import type { DiffwatchConfig } from '../config/schema.ts';
import { createDetector } from '../detect/detector.ts';
import { IngestError, type DiffwatchError } from '../errors.ts';
import { createAnomalyCodec, readingDecoderFor } from '../ingest/codec/index.ts';
import { createConsumerRunner, type ConsumerRunner } from '../ingest/consumerRunner.ts';
import { createDeadLetterPublisher } from '../ingest/deadLetter.ts';
import { createKafka } from '../ingest/kafkaClient.ts';
import type { PartitionRef } from '../ingest/flowControl.ts';
import type { Logger } from '../log.ts';
import { METRICS, Metrics } from '../metrics.ts';
import { createBaselineScorer } from '../model/baselineScorer.ts';
import { createNoopScorer } from '../model/noopScorer.ts';
import { createDiffusionScorer } from '../modelOps/diffusionScorer.ts';
import { createModelRegistry, NO_MODEL, type ModelRegistry } from '../modelOps/modelRegistry.ts';
import { sampleWorkerTensors } from '../modelOps/workerTensors.ts';
import type { HttpAddress } from '../ops/httpServer.ts';
import type { ReadinessReport } from '../ops/readiness.ts';
import { startOps } from '../ops/startOps.ts';
import { createAnomalyProducer } from '../sinks/anomalyProducer.ts';
import { alertPoint, scorePoint } from '../sinks/influxPoints.ts';
import { createInfluxWriter } from '../sinks/influxWriter.ts';
import { ensureRetention } from '../sinks/retention.ts';
import { createStateStore } from '../sinks/stateStore.ts';
import { createDurableDetectorState } from './durableDetectorState.ts';
import { createEntityPartitions } from './entityPartitions.ts';
import { rejectedWindowLetter, windowOfEvent, windowsOfRejectedPoints } from './rejectedWindows.ts';
import { printable } from '../textRules.ts';
import { batchWhileBusy, windowsByEntity } from '../stream/index.ts';
import type { Reading, ScoredWindow, Scorer, SourceCoord, Window } from '../types.ts';

export interface Service {
  /** Resolves when the service has stopped (after `stop`, or on a fatal error, which rejects). */
  readonly done: Promise<void>;
  stop(reason: string): Promise<void>;
  lastMessageAt(): number;
  inFlight(): number;
  /** True while a paused or just-resumed partition may still hold unread input. */
  resuming(): boolean;
  /** True while a model is being trained or fine-tuned in the background. */
  training(): boolean;
  /** Where /metrics, /healthz and /readyz are served (ops.http); undefined when disabled. */
  httpAddress(): HttpAddress | undefined;
  /** What /readyz answers. */
  readiness(): ReadinessReport;
  readonly metrics: Metrics;
}

/** An entity's state for the `diffwatch_entities` gauge, from its newest judged window (a replayed one says nothing new). */
function entityState(s: ScoredWindow): 'cold_start' | 'warmup' | 'scoring' | undefined {
  if (s.detectorState === 'replay') return undefined;
  if (s.modelVersion === NO_MODEL) return 'cold_start';
  return s.detectorState === 'warmup' ? 'warmup' : 'scoring';
}

/** The partition a window is accounted to for backpressure: that of its newest message. */
function partitionOf(w: Window): PartitionRef | undefined {
  const s = w.sources[w.sources.length - 1];
  return s && { topic: s.topic, partition: s.partition };
}

/** The scorer of the config: the statistical baseline, or the diffusion models of every entity (modelRegistry.ts). */
export async function createScorer(cfg: Readonly<DiffwatchConfig>, log: Logger, metrics?: Metrics, kafka?: Kafka): Promise<Scorer | ModelRegistry> {
  if (cfg.scorer.kind === 'baseline') return createBaselineScorer(cfg.scorer.baseline);
  if (cfg.scorer.kind === 'noop') return createNoopScorer();
  const d = cfg.scorer.diffusion;
  const pool = await createDiffusionScorer({ modelDir: null, workers: d.workers > 0 ? d.workers : undefined, backend: d.backend, log: log.namespace('model') });
  metrics?.sample(METRICS.scoringQueue, () => pool.stats?.().queuedWeight ?? 0);
  if (metrics) sampleWorkerTensors(metrics, pool);
  try {
    return await createModelRegistry({ config: d, windowLength: cfg.stream.windowLength, scorer: pool, log: log.namespace('model'), metrics, kafka });
  } catch (e) {
    await pool.close();
    throw e;
  }
}

const isRegistry = (s: Scorer | ModelRegistry): s is ModelRegistry => 'observe' in s;

/** `scorer`: used in place of the config's (tests: a model slower than the session timeout). */
export async function startService(cfg: Readonly<DiffwatchConfig>, deps: { log: Logger; metrics?: Metrics; scorer?: Scorer }): Promise<Service> {
  const { log } = deps;
  const metrics = deps.metrics ?? new Metrics();
  metrics.collectDefaults();
  // The operator endpoint comes up first, so /healthz answers (and /readyz says what is missing) during start-up.
  let stopped = false;
  let consumer: ConsumerRunner | undefined;
  let producerUp = false;
  let scorerLoaded = false;
  const ops = await startOps({
    ops: cfg.ops,
    kafka: cfg.kafka,
    influx: cfg.sinks.influx,
    metrics,
    log: log.namespace('ops'),
    status: {
      stopped: () => stopped,
      group() {
        const m = consumer?.membership() ?? { joined: false, reason: 'consumer not started' };
        if (!m.joined) return { ok: false, reason: m.reason };
        return consumer!.assignment().length > 0 ? { ok: true } : { ok: false, reason: 'in the group, but no partition assigned' };
      },
      producer: () => (producerUp ? { ok: true } : { ok: false, reason: 'Kafka producer not connected' }),
      scorer: () => (scorerLoaded ? { ok: true } : { ok: false, reason: stopped ? 'scorer closed' : 'scorer loading' }),
      owned: () => consumer?.assignment() ?? [],
    },
  });
  try {
    return await run();
  } catch (e) {
    stopped = true;
    await ops.close().catch((err) => log.warn('operator endpoint did not close cleanly', { error: err }));
    throw e;
  }

  async function run(): Promise<Service> {
    const kafka = createKafka(cfg.kafka, { log });
    const producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
    producer.on(producer.events.CONNECT, () => (producerUp = true));
    producer.on(producer.events.DISCONNECT, () => (producerUp = false));
    const influx = createInfluxWriter(cfg.sinks.influx, { log: log.namespace('influx') });
    const anomalyCodec = createAnomalyCodec();
    const anomalies = createAnomalyProducer({ kafka, topic: cfg.sinks.anomaliesTopic, encode: (e) => anomalyCodec.encode(e), log: log.namespace('anomalies') });
    const scorer = deps.scorer ?? (await createScorer(cfg, log, metrics, kafka));
    scorerLoaded = true;
    const models = isRegistry(scorer) ? scorer : undefined;
    metrics.sample(METRICS.models, () => [...(models?.liveVersions() ?? new Map([[scorer.version, 1]]))].map(([version, value]) => ({ labels: { version }, value })));
    metrics.sample(METRICS.influxBufferPoints, () => influx.buffered);
    metrics.sample(METRICS.influxBufferFill, () => influx.buffered / cfg.sinks.influx.maxBufferPoints);
    metrics.sample(METRICS.influxRetries, () => influx.stats().retries);
    // Each entity's state from its newest judged window.
    const entityStates = new Map<string, 'cold_start' | 'warmup' | 'scoring'>();
    metrics.sample(METRICS.entities, () => {
      const count = { cold_start: 0, warmup: 0, scoring: 0 };
      for (const st of entityStates.values()) count[st]++;
      return Object.entries(count).map(([state, value]) => ({ labels: { state }, value }));
    });
    const state = createDurableDetectorState(createStateStore({ kafka, topic: cfg.detect.stateTopic, log: log.namespace('state') }), log.namespace('state'));
    const detector = createDetector(cfg.detect, { lookup: (id) => state.lookup(id), prior: (id) => models?.prior(id) });
    const decoder = readingDecoderFor(cfg.ingest);
    const deadLetters = createDeadLetterPublisher({ producer, suffix: cfg.ingest.dlqSuffix, log: log.namespace('dlq'), metrics, maxValueBytes: cfg.ingest.maxMessageBytes });

    await influx.ensureDatabase();
    await ensureRetention(cfg.sinks.influx, cfg.sinks.retention, { log: log.namespace('retention') });
    await producer.connect();
    await anomalies.connect();
    await state.store.ensureTopic();
    await state.reload();

    const readings = new Subject<Reading>();
    const runner = createConsumerRunner({
      kafka,
      config: cfg.kafka,
      flow: { highWaterMark: cfg.ingest.highWaterMark, lowWaterMark: cfg.ingest.lowWaterMark },
      decode: (value, source) => decoder.decode(value, source),
      prepare: (values, topic, wait) => decoder.prepare(values, topic, wait),
      onReading: (r) => {
        entityPartitions.read(r.entityId, r.source);
        readings.next(r);
      },
      deadLetters,
      log: log.namespace('consumer'),
      metrics,
      beforeBatch: () => state.ready(),
      beforeCommit: () => state.flush(),
      onJoin: (gained, lost) => {
        // Entities of lost partitions are rebuilt by their new owner from the state topic; the
        // state of gained ones may have been written by their previous owner. Their buffers are
        // dropped by `evict` below, and their windows still in flight are never written (`owned`).
        const gone = entityPartitions.takeOf(lost);
        for (const id of gone) {
          detector.forget(id);
          entityStates.delete(id);
        }
        state.forget(gone);
        models?.forget(gone);
        if (gained.length > 0) void state.reload().catch((e) => log.error('detector state reload failed', { error: e }));
      },
      // No input any more: the pipeline fails, the service stops and `run` exits 1 for its supervisor.
      onFailed: (e) => readings.error(e),
    });
    consumer = runner;

    // Which partition each entity's readings come from, to forget it when that partition goes;
    // a note lives as long as the entity's buffer, or its detector state once it had a window.
    const entityPartitions = createEntityPartitions();

    const deadLetterReading = (r: Reading, error: IngestError) => {
      const { source, ...reading } = r;
      deadLetters
        .publish([{ source, key: r.entityId, value: JSON.stringify(reading), error }])
        .then(() => runner.release([source]))
        .catch((e) => log.error('reading could not be dead-lettered; it stays uncommitted', { ...source, code: error.code, error: e }));
    };
    const onLate = (r: Reading) => {
      metrics.inc(METRICS.lateRecords);
      deadLetterReading(r, new IngestError('LATE_RECORD', `reading at ${new Date(r.timestamp).toISOString()} arrived after the allowed lateness of ${cfg.stream.allowedLatenessMs} ms`, r.source));
    };
    const onRefused = (r: Reading) => {
      metrics.inc(METRICS.entitiesRefused);
      deadLetterReading(r, new IngestError('ENTITY_LIMIT', `entity ${r.entityId} refused: stream.maxEntities (${cfg.stream.maxEntities}) entities are live`, r.source));
    };
    const onLiveCount = (n: number) => metrics.set(METRICS.entitiesLive, n);
    const onEntityEnd = (id: string) => entityPartitions.ended(id);
    const onDiscard = (sources: SourceCoord[]) => {
      metrics.inc(METRICS.discardedReadings, sources.length);
      runner.release(sources);
    };

    /**
     * True while every message of the window was read under the current ownership of its
     * partition: a window of a partition revoked since is its new owner's to write, not ours.
     */
    const owned = (w: Window) => w.sources.every((s) => runner.owns(s));

    /** Scoring and detector state advance one micro-batch at a time, in order. */
    async function scoreBatch(all: Window[]) {
      const t0 = performance.now();
      const live = all.filter(owned);
      const allScores = live.length > 0 ? await scorer.score(live) : [];
      // A rebalance may have revoked partitions while the model ran.
      const keep = live.map(owned);
      const batch = live.filter((_, i) => keep[i]);
      const scores = allScores.filter((_, i) => keep[i]);
      if (batch.length < all.length) log.debug('windows of revoked partitions dropped', { windows: all.length - batch.length });
      metrics.observe(METRICS.modelCallDuration, (performance.now() - t0) / 1000, { scorer: scorer.name });
      metrics.observe(METRICS.modelBatchSize, batch.length, { scorer: scorer.name });
      const decided = detector.update(batch, scores, { scorer: scorer.name, modelVersion: scorer.version });
      models?.observe(decided.scored);
      for (const s of decided.scored) {
        const st = entityState(s);
        if (st) entityStates.set(s.window.entityId, st);
      }
      return { batch, ...decided, seq: state.scored(detector.takeDirty()) };
    }

    // Alert events go out one batch after the other, so that an entity's open/resolved order holds.
    let alertsSent: Promise<unknown> = Promise.resolve();

    /**
     * Publishes a judged batch's alert events at once, behind those of the batches before it,
     * instead of when a delivery slot frees up: an alert waits for no InfluxDB flush.
     */
    function publishAlerts(judged: Awaited<ReturnType<typeof scoreBatch>>) {
      const { batch } = judged;
      let { events } = judged;
      if (batch.some((w) => !owned(w))) {
        events = events.filter((e) => {
          const w = windowOfEvent(batch, e);
          return w === undefined || owned(w);
        });
      }
      if (events.length > 0) alertsSent = alertsSent.then(() => anomalies.send(events));
      return { ...judged, events, published: alertsSent };
    }

    /** Deliveries awaiting durability now, at most sinks.maxBatchesInFlight. */
    let delivering = 0;

    /** Several batches may await durability at once, so that the writer can fill its requests. */
    async function deliver({ batch, scored, events, seq, published }: ReturnType<typeof publishAlerts>): Promise<void> {
      // A replayed window (judged before a restart) is already in InfluxDB: it is not written again.
      const fresh = scored.filter((s) => s.detectorState !== 'replay' && owned(s.window));
      const points = [...fresh.map(scorePoint), ...events.map(alertPoint)];
      const owners = [...fresh.map((s) => s.window), ...events.map((e) => windowOfEvent(batch, e))];
      const writing = influx.write(points);
      // With every slot taken, the next batch would wait for the writer's timer (a live stream
      // fills no request by size): flush now instead, so throughput is not slots / flushIntervalMs.
      if (++delivering >= cfg.sinks.maxBatchesInFlight) void influx.flush().catch(() => undefined);
      let written: Awaited<typeof writing>;
      try {
        // Both sinks must acknowledge before any message of these windows is released.
        [written] = await Promise.all([writing, published]);
      } finally {
        delivering--;
      }
      // A window with a point InfluxDB did not store is dead-lettered, never counted as written.
      const unreleased = await deadLetterRejected(windowsOfRejectedPoints(owners, written.rejectedPoints));
      state.durable(seq);
      metrics.inc(METRICS.windowsScored, batch.length - unreleased.rejected.size);
      metrics.inc(METRICS.alertsEmitted, events.length);
      metrics.inc(METRICS.pointsWritten, written.written);
      const durableAt = Date.now();
      for (const w of batch) {
        // Revoked meanwhile: its partition's flow and holds were dropped (and maybe begun anew).
        if (!owned(w)) continue;
        if (!unreleased.rejected.has(w)) observeLatency(w, durableAt);
        if (!unreleased.held.has(w)) runner.release(w.releases);
        const p = partitionOf(w);
        if (p) runner.flow.end(p);
      }
    }

    /** Kafka append time of the window's newest message → now, for a window durable in every sink. */
    function observeLatency(w: Window, durableAt: number): void {
      const newest = w.sources[w.sources.length - 1];
      const at = newest && runner.appendedAt(newest);
      if (at !== undefined && Number.isFinite(at)) metrics.observe(METRICS.endToEndLatency, Math.max(0, durableAt - at) / 1000);
    }

    /** Dead-letters rejected windows; those whose dead letter failed stay unreleased (re-read after a restart). */
    async function deadLetterRejected(failed: Map<Window, DiffwatchError>): Promise<{ rejected: Set<Window>; held: Set<Window> }> {
      const held = new Set<Window>();
      for (const [w, error] of failed) {
        metrics.inc(METRICS.windowsRejected, 1, { code: error.code });
        log.error('window not stored in InfluxDB, dead-lettered', { entityId: printable(w.entityId), endTime: w.endTime, code: error.code, error: error.message });
        const letter = rejectedWindowLetter(w, error);
        try {
          if (letter) await deadLetters.publish([letter]);
        } catch (e) {
          held.add(w);
          log.error('rejected window could not be dead-lettered; its messages stay uncommitted', { entityId: printable(w.entityId), error: e });
        }
      }
      return { rejected: new Set(failed.keys()), held };
    }

    let resolveDone!: () => void;
    let rejectDone!: (e: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolveDone = res;
      rejectDone = rej;
    });
    let stopping: Promise<void> | undefined;

    const evict = runner.revoked.pipe(
      map((parts) => {
        const gone = new Set(parts.map((p) => `${p.topic}\u0000${p.partition}`));
        return (r: Reading) => gone.has(`${r.source.topic}\u0000${r.source.partition}`);
      }),
    );
    const subscription = readings
      .pipe(
        // An entity whose partition is paused (backpressure) is silent, not idle; one whose
        // partition was revoked is rebuilt by the partition's new owner, so it is dropped here.
        windowsByEntity({ stream: cfg.stream }, { onLate, onDiscard, onRefused, onLiveCount, onEntityEnd, holdIdle: (r) => runner.stalledWithin(r.source, cfg.stream.entityIdleMs), evict }),
        tap((w: Window) => {
          // A window cut from an evicted buffer (its partition was revoked) is dropped before scoring.
          const p = partitionOf(w);
          if (p && owned(w)) {
            runner.flow.begin(p);
            entityPartitions.windowed(w.entityId);
          }
        }),
        batchWhileBusy({ maxSize: cfg.scorer.microBatchSize, maxWaitMs: cfg.scorer.microBatchMs }, (batch: Window[]) => scoreBatch(batch).then(publishAlerts)),
        mergeMap((scored) => from(deliver(scored)), cfg.sinks.maxBatchesInFlight),
      )
      .subscribe({
        error: (e) => {
          log.error('pipeline failed', { error: e });
          // Nothing in flight can complete once the pipeline has failed: stop without waiting for it.
          void shutdown(`fatal: ${(e as Error).message}`, 0).then(() => rejectDone(e), rejectDone);
        },
      });

    async function shutdown(reason: string, drainTimeoutMs?: number): Promise<void> {
      stopped = true;
      log.info('stopping', { reason });
      try {
        await runner.stop(drainTimeoutMs);
        // Open windows are not completed: their readings stay uncommitted and are re-read on restart.
        subscription.unsubscribe();
        await influx.close();
        await anomalies.disconnect();
        await state.store.close();
        await producer.disconnect();
        await scorer.close?.();
      } finally {
        // Last, so /metrics shows the final counts until the sinks are closed; the endpoint must close even after a failure.
        scorerLoaded = false;
        await ops.close();
      }
      log.info('stopped', { metrics: metrics.snapshot() });
    }

    await runner.start();
    log.info('started', { topics: cfg.kafka.topics, topicPattern: cfg.kafka.topicPattern, groupId: cfg.kafka.groupId, scorer: scorer.name });

    return {
      done,
      lastMessageAt: () => runner.lastMessageAt(),
      inFlight: () => runner.flow.inFlight(),
      resuming: () => runner.resuming(),
      training: () => models?.training() ?? false,
      httpAddress: () => ops.address,
      readiness: () => ops.readiness.report(),
      metrics,
      stop(reason) {
        stopping ??= shutdown(reason).then(resolveDone, (e) => {
          rejectDone(e);
          throw e;
        });
        return stopping;
      },
    };
  }
}
