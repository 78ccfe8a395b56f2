/**
 * The composition root: Kafka input → stream operators → scorer → sinks, with acks flowing
 * back to the offsets. It reads like a table of contents; each step lives in its own module.
 *
 *   consumerRunner ──readings──▶ windowsByEntity ──▶ microBatch ──▶ scorer ──▶ detector
 *        ▲                                                                      │
 *        └── release(window.releases), state snapshots ◀── influx + anomalies acked
 */
import { Kafka, Partitioners, logLevel as KafkaLogLevel } from 'kafkajs';
import { Subject, concatMap, from, map, mergeMap, tap } from 'rxjs';
import type { DiffwatchConfig } from '../config/schema.ts';
import { createDetector } from '../detect/detector.ts';
import { IngestError, type DiffwatchError } from '../errors.ts';
import { createAnomalyCodec, readingDecoderFor } from '../ingest/codec/index.ts';
import { createConsumerRunner } from '../ingest/consumerRunner.ts';
import { createDeadLetterPublisher } from '../ingest/deadLetter.ts';
import { kafkaLogCreator } from '../ingest/kafkaLogger.ts';
import type { PartitionRef } from '../ingest/flowControl.ts';
import type { Logger } from '../log.ts';
import { METRICS, type Metrics } from '../metrics.ts';
import { createBaselineScorer } from '../model/baselineScorer.ts';
import { createDiffusionScorer } from '../modelOps/diffusionScorer.ts';
import { createModelRegistry, type ModelRegistry } from '../modelOps/modelRegistry.ts';
import { createAnomalyProducer } from '../sinks/anomalyProducer.ts';
import { alertPoint, scorePoint } from '../sinks/influxPoints.ts';
import { createInfluxWriter } from '../sinks/influxWriter.ts';
import { ensureRetention } from '../sinks/retention.ts';
import { createStateStore } from '../sinks/stateStore.ts';
import { createDurableDetectorState } from './durableDetectorState.ts';
import { rejectedWindowLetter, windowOfEvent, windowsOfRejectedPoints } from './rejectedWindows.ts';
import { printable } from '../textRules.ts';
import { microBatch, windowsByEntity } from '../stream/index.ts';
import type { Reading, Scorer, SourceCoord, Window } from '../types.ts';

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
}

/** The partition a window is accounted to for backpressure: that of its newest message. */
function partitionOf(w: Window): PartitionRef | undefined {
  const s = w.sources[w.sources.length - 1];
  return s && { topic: s.topic, partition: s.partition };
}

/** The scorer of the config: the statistical baseline, or the diffusion models of every entity (modelRegistry.ts). */
export async function createScorer(cfg: Readonly<DiffwatchConfig>, log: Logger, metrics?: Metrics): Promise<Scorer | ModelRegistry> {
  if (cfg.scorer.kind === 'baseline') return createBaselineScorer(cfg.scorer.baseline);
  const d = cfg.scorer.diffusion;
  const pool = await createDiffusionScorer({ modelDir: null, workers: d.workers > 0 ? d.workers : undefined, backend: d.backend, log: log.namespace('model') });
  try {
    return await createModelRegistry({ config: d, windowLength: cfg.stream.windowLength, scorer: pool, log: log.namespace('model'), metrics });
  } catch (e) {
    await pool.close();
    throw e;
  }
}

const isRegistry = (s: Scorer | ModelRegistry): s is ModelRegistry => 'observe' in s;

export async function startService(cfg: Readonly<DiffwatchConfig>, deps: { log: Logger; metrics: Metrics }): Promise<Service> {
  const { log, metrics } = deps;
  const kafka = new Kafka({ clientId: cfg.kafka.clientId, brokers: [...cfg.kafka.brokers], logLevel: KafkaLogLevel.WARN, logCreator: kafkaLogCreator(log) });
  const producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
  const influx = createInfluxWriter(cfg.sinks.influx, { log: log.namespace('influx') });
  const anomalyCodec = createAnomalyCodec();
  const anomalies = createAnomalyProducer({ kafka, topic: cfg.sinks.anomaliesTopic, encode: (e) => anomalyCodec.encode(e), log: log.namespace('anomalies') });
  const scorer = await createScorer(cfg, log, metrics);
  const models = isRegistry(scorer) ? scorer : undefined;
  const state = createDurableDetectorState(createStateStore({ kafka, topic: cfg.detect.stateTopic, log: log.namespace('state') }), log.namespace('state'));
  const detector = createDetector(cfg.detect, { lookup: (id) => state.lookup(id), prior: (id) => models?.prior(id) });
  const decoder = readingDecoderFor(cfg.ingest);
  const deadLetters = createDeadLetterPublisher({ producer, suffix: cfg.ingest.dlqSuffix, log: log.namespace('dlq'), metrics });

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
    onReading: (r) => {
      entityPartition.set(r.entityId, `${r.source.topic}\u0000${r.source.partition}`);
      readings.next(r);
    },
    deadLetters,
    log: log.namespace('consumer'),
    metrics,
    beforeBatch: () => state.ready(),
    beforeCommit: () => state.flush(),
    onJoin: (gained, lost) => {
      // Entities of lost partitions are rebuilt by their new owner from the state topic; the
      // state of gained ones may have been written by their previous owner.
      const gone = entitiesOf(lost);
      for (const id of gone) detector.forget(id);
      models?.forget(gone);
      if (gained.length > 0) void state.reload().catch((e) => log.error('detector state reload failed', { error: e }));
    },
  });

  // Which partition each entity's readings come from, to forget it when that partition goes.
  const entityPartition = new Map<string, string>();
  const entitiesOf = (parts: PartitionRef[]) => {
    const gone = new Set(parts.map((p) => `${p.topic}\u0000${p.partition}`));
    return [...entityPartition].filter(([, k]) => gone.has(k)).map(([id]) => id);
  };

  const onLate = (r: Reading) => {
    metrics.inc(METRICS.lateRecords);
    const error = new IngestError('LATE_RECORD', `reading at ${new Date(r.timestamp).toISOString()} arrived after the allowed lateness of ${cfg.stream.allowedLatenessMs} ms`, r.source);
    const { source, ...reading } = r;
    deadLetters
      .publish([{ source, key: r.entityId, value: JSON.stringify(reading), error }])
      .then(() => runner.release([source]))
      .catch((e) => log.error('late record could not be dead-lettered; it stays uncommitted', { ...source, error: e }));
  };
  const onDiscard = (sources: SourceCoord[]) => {
    metrics.inc(METRICS.discardedReadings, sources.length);
    runner.release(sources);
  };

  /** Scoring and detector state advance one micro-batch at a time, in order. */
  async function scoreBatch(batch: Window[]) {
    const scores = await scorer.score(batch);
    const decided = detector.update(batch, scores, { scorer: scorer.name, modelVersion: scorer.version });
    models?.observe(decided.scored);
    return { batch, ...decided, seq: state.scored(detector.takeDirty()) };
  }

  // Alert events go out one batch after the other, so that an entity's open/resolved order holds.
  let alertsSent: Promise<unknown> = Promise.resolve();

  /** Several batches may await durability at once, so that the writer can fill its requests. */
  async function deliver({ batch, scored, events, seq }: Awaited<ReturnType<typeof scoreBatch>>): Promise<void> {
    // A replayed window (judged before a restart) is already in InfluxDB: it is not written again.
    const fresh = scored.filter((s) => s.detectorState !== 'replay');
    const points = [...fresh.map(scorePoint), ...events.map(alertPoint)];
    const owners = [...fresh.map((s) => s.window), ...events.map((e) => windowOfEvent(batch, e))];
    if (events.length > 0) alertsSent = alertsSent.then(() => anomalies.send(events));
    // Both sinks must acknowledge before any message of these windows is released.
    const [written] = await Promise.all([influx.write(points), alertsSent]);
    // A window with a point InfluxDB did not store is dead-lettered, never counted as written.
    const unreleased = await deadLetterRejected(windowsOfRejectedPoints(owners, written.rejectedPoints));
    state.durable(seq);
    metrics.inc(METRICS.windowsScored, batch.length - unreleased.rejected);
    metrics.inc(METRICS.alertsEmitted, events.length);
    metrics.inc(METRICS.pointsWritten, written.written);
    for (const w of batch) {
      if (!unreleased.held.has(w)) runner.release(w.releases);
      const p = partitionOf(w);
      if (p) runner.flow.end(p);
    }
  }

  /** Dead-letters rejected windows; those whose dead letter failed stay unreleased (re-read after a restart). */
  async function deadLetterRejected(failed: Map<Window, DiffwatchError>): Promise<{ rejected: number; held: Set<Window> }> {
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
    return { rejected: failed.size, held };
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
      windowsByEntity({ stream: cfg.stream }, { onLate, onDiscard, holdIdle: (r) => runner.stalledWithin(r.source, cfg.stream.entityIdleMs), evict }),
      tap((w: Window) => {
        const p = partitionOf(w);
        if (p) runner.flow.begin(p);
      }),
      microBatch<Window>({ maxSize: cfg.scorer.microBatchSize, maxWaitMs: cfg.scorer.microBatchMs }),
      concatMap((batch: Window[]) => from(scoreBatch(batch))),
      mergeMap((scored) => from(deliver(scored)), cfg.sinks.maxBatchesInFlight),
    )
    .subscribe({
      error: (e) => {
        log.error('pipeline failed', { error: e });
        void shutdown(`fatal: ${(e as Error).message}`).then(() => rejectDone(e), rejectDone);
      },
    });

  async function shutdown(reason: string): Promise<void> {
    log.info('stopping', { reason });
    await runner.stop();
    // Open windows are not completed: their readings stay uncommitted and are re-read on restart.
    subscription.unsubscribe();
    await influx.close();
    await anomalies.disconnect();
    await state.store.close();
    await producer.disconnect();
    await scorer.close?.();
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
    stop(reason) {
      stopping ??= shutdown(reason).then(resolveDone, (e) => {
        rejectDone(e);
        throw e;
      });
      return stopping;
    },
  };
}
