/**
 * The Kafka input: a consumer group over the configured topics that turns messages into
 * readings, holds every message until the pipeline reports it done, commits per-partition
 * watermarks, pauses partitions under backpressure and dead-letters bad messages.
 *
 * At-least-once with kafkajs (docs/Consuming.md "Manual committing"): `autoCommit` is off and
 * `eachBatchAutoResolve` is off. Each message is resolved as soon as it has been handed to the
 * pipeline, which only moves the fetch position; what is committed is the tracker's watermark,
 * which never passes a message that is not yet durable in every sink.
 *
 * Rebalances (kafkajs uses the eager protocol): after every join kafkajs re-reads each assigned
 * partition from its committed offset, the partitions it keeps included. A kept partition's
 * messages that were handed over before are skipped (they are in the pipeline, or done). A
 * partition gained starts a new ownership: the messages read under an earlier one (in windows
 * still in flight) are no longer `owned`, and releasing them is a no-op, so they can neither be
 * written after the new owner starts nor move the new ownership's commit.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { Subject, type Observable } from 'rxjs';
import type { KafkaConfig } from '../config/schema.ts';
import { ConsumerError, IngestError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { METRICS, type Metrics } from '../metrics.ts';
import type { Reading, SensorReading, SourceCoord } from '../types.ts';
import type { DeadLetter, DeadLetterPublisher } from './deadLetter.ts';
import { FlowControl, type PartitionRef } from './flowControl.ts';
import { OffsetTracker } from './offsetTracker.ts';

export interface ConsumerRunnerOptions {
  kafka: Kafka;
  config: KafkaConfig;
  flow: { highWaterMark: number; lowWaterMark: number };
  decode(value: Buffer | null, source: SourceCoord): SensorReading;
  /** Hands a reading to the pipeline (synchronously). */
  onReading(reading: Reading): void;
  deadLetters: DeadLetterPublisher;
  log: Logger;
  metrics: Metrics;
  /** Awaited before each batch is handed over (e.g. until saved state has been reloaded). */
  beforeBatch?: () => Promise<void>;
  /**
   * Awaited with a batch's values before they are decoded (to fetch unknown schema ids from a
   * registry). May wait out an outage while `isRunning()`, calling `heartbeat` between tries.
   */
  prepare?: (values: ReadonlyArray<Buffer | null>, topic: string, wait: { isRunning: () => boolean; heartbeat: () => Promise<void> }) => Promise<void>;
  /** Awaited before offsets are committed (e.g. to flush state that must not lag the offsets). */
  beforeCommit?: () => Promise<void>;
  /** Called after each group join with the partitions gained and lost. */
  onJoin?: (gained: PartitionRef[], lost: PartitionRef[]) => void;
  /**
   * Called once if the consumer crashed and kafkajs will not restart it: nothing will be fetched
   * again, so the input is over. kafkajs restarts itself after an error it retries (a broker
   * outage, a coordinator still loading), and only those.
   */
  onFailed?: (e: ConsumerError) => void;
}

export interface ConsumerRunner {
  start(): Promise<void>;
  /** Stop fetching, wait until in-flight work is acknowledged (or `drainTimeoutMs`), commit, disconnect. */
  stop(drainTimeoutMs?: number): Promise<void>;
  /**
   * Mark messages done (their windows are durable, or they were dead-lettered or discarded).
   * Messages read under an earlier ownership of their partition are ignored.
   */
  release(sources: Iterable<SourceCoord>): void;
  /**
   * True while the message's partition is assigned and has been since the message was read: its
   * windows may be written. False once the partition was revoked (even if assigned again since).
   */
  owns(source: SourceCoord): boolean;
  readonly tracker: OffsetTracker;
  readonly flow: FlowControl;
  /** Wall-clock ms of the last message fetched, of start, or of the first fetch after a resume. */
  lastMessageAt(): number;
  /** True while some partition is paused, or resumed and not fetched since: the input is not idle. */
  resuming(): boolean;
  /**
   * True while the partition is paused, or was resumed and has not been fetched for `ms` since,
   * or while no fetch has completed for a while (broker gone, rebalance) and for `ms` after the
   * first one that does: silence on it says nothing about its producers. kafkajs fetches a resumed partition only on
   * its next fetch loop, up to `maxWaitTimeInMs` later when every partition was paused.
   */
  stalledWithin(ref: PartitionRef, ms: number): boolean;
  commit(): Promise<void>;
  /** Partitions taken away by a rebalance; their new owner re-reads them from the committed offsets. */
  readonly revoked: Observable<PartitionRef[]>;
  /** The Kafka timestamp (epoch ms) of the message a reading came from, while the reading is in flight. */
  appendedAt(source: SourceCoord): number | undefined;
  /** The partitions this member owns now. */
  assignment(): PartitionRef[];
  /** Whether the consumer is a member of its group (joined, and not crashed, disconnected or stopped since), and why not. */
  membership(): { joined: boolean; reason?: string };
}

/**
 * The ownership a message was read under, on its source object: `owns` runs for every source of
 * every window, and a property read costs far less than a WeakMap lookup. A symbol key, so the
 * source's JSON (dead letters) and its shape as a `SourceCoord` stay as they were.
 */
const READ_UNDER = Symbol('readUnder');
type OwnedSource = SourceCoord & { [READ_UNDER]: number };

export function createConsumerRunner(opts: ConsumerRunnerOptions): ConsumerRunner {
  const { config: cfg, log, metrics } = opts;
  const tracker = new OffsetTracker();
  const consumer: Consumer = opts.kafka.consumer({
    groupId: cfg.groupId,
    sessionTimeout: cfg.sessionTimeoutMs,
    heartbeatInterval: cfg.heartbeatIntervalMs,
    // When every partition is paused kafkajs sleeps this long before fetching again, so it
    // bounds how late a resumed partition starts flowing.
    maxWaitTimeInMs: cfg.maxWaitTimeMs,
    maxBytesPerPartition: cfg.maxBytesPerPartition,
    allowAutoTopicCreation: false,
  });
  const flow = new FlowControl({
    ...opts.flow,
    pause: (p) => {
      metrics.inc(METRICS.partitionsPaused, 1);
      log.info('partition paused', { ...p, inFlight: flow.inFlight(p) });
      consumer.pause([{ topic: p.topic, partitions: [p.partition] }]);
    },
    resume: (p) => {
      log.info('partition resumed', { ...p, inFlight: flow.inFlight(p) });
      awaitingFetch.add(`${p.topic}\u0000${p.partition}`);
      consumer.resume([{ topic: p.topic, partitions: [p.partition] }]);
    },
  });

  // Resumed partitions not fetched since, and when each partition was first fetched after a resume.
  const awaitingFetch = new Set<string>();
  let resumedFetching = false;
  let lastActivity = Date.now();
  const fetchedSince = new Map<string, number>();
  let assigned = new Set<string>();
  const lastCommitted = new Map<string, string>();
  let lastMessage = Date.now();
  let commitTimer: NodeJS.Timeout | undefined;
  let committing: Promise<void> = Promise.resolve();
  // Kafka timestamps of in-flight messages: the stream keeps each reading's `source` object, so
  // it is the key, and an entry goes when nothing refers to that object any more.
  const appended = new WeakMap<SourceCoord, number>();
  // The ownership each in-flight message was read under (on its source, under READ_UNDER), and
  // the current one of each partition (a number that grows each time the partition is gained).
  const ownership = new Map<string, number>();
  // The current ones, for `owns` (asked for every source of every window: no key strings built).
  const current = new Set<number>();
  let ownerships = 0;
  let memberId: string | undefined;
  let membership: { joined: boolean; reason?: string } = { joined: false, reason: 'not started' };
  let failed = false;
  consumer.on(consumer.events.CRASH, (e) => {
    const { error, restart } = e.payload;
    membership = { joined: false, reason: `consumer crashed: ${error.message}` };
    if (restart || failed) return;
    failed = true;
    const err = new ConsumerError(`the Kafka consumer of group ${cfg.groupId} crashed and will not be restarted: ${error.name}: ${error.message}`, { groupId: cfg.groupId, kafkaError: error.name }, error);
    log.error('consumer failed', { error: err });
    opts.onFailed?.(err);
  });
  consumer.on(consumer.events.DISCONNECT, () => {
    membership = { joined: false, reason: 'consumer disconnected' };
  });
  consumer.on(consumer.events.STOP, () => {
    membership = { joined: false, reason: 'consumer stopped' };
  });

  consumer.on(consumer.events.FETCH_START, () => {
    const now = Date.now();
    for (const k of awaitingFetch) fetchedSince.set(k, now);
    if (awaitingFetch.size > 0) resumedFetching = true;
    awaitingFetch.clear();
  });
  // The first fetch after a resume restarts the idle clock: until it has returned, a resumed
  // partition may still hold unread messages even though none has arrived for a while.
  // Fetches stop while the broker is unreachable or the group rebalances. Silence then says
  // nothing about the producers either: no entity counts as idle until fetching has run again for
  // the idle time (stalledWithin), so a broker restart does not drop the entities' buffers.
  let lastFetch = Date.now();
  // A healthy consumer completes a fetch at least every maxWaitTimeMs (the broker answers then, data or not).
  const fetchGapMs = cfg.maxWaitTimeMs + 2_000;
  const fetchStopped = () => Date.now() - lastFetch > fetchGapMs;
  consumer.on(consumer.events.FETCH, () => {
    const now = Date.now();
    if (now - lastFetch > fetchGapMs) for (const k of assigned) fetchedSince.set(k, now);
    lastFetch = now;
    if (!resumedFetching) return;
    resumedFetching = false;
    lastActivity = Date.now();
  });

  const revoked = new Subject<PartitionRef[]>();
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const gone: PartitionRef[] = [];
    const gained: PartitionRef[] = [];
    const next = new Set<string>();
    // A new member id means this consumer was expelled from the group (session timeout) and
    // joined again: another member may have owned its partitions meanwhile, so none is kept.
    const kept = memberId === e.payload.memberId ? assigned : new Set<string>();
    memberId = e.payload.memberId;
    for (const [topic, parts] of Object.entries(e.payload.memberAssignment)) {
      for (const p of parts) {
        const k = `${topic}\u0000${p}`;
        next.add(k);
        if (kept.has(k)) continue;
        forgetPartition(k);
        ownership.set(k, ++ownerships);
        current.add(ownerships);
        gained.push({ topic, partition: p });
      }
    }
    for (const k of assigned) {
      if (next.has(k) && kept.has(k)) continue;
      if (!next.has(k)) forgetPartition(k);
      const [topic, partition] = k.split('\u0000');
      gone.push({ topic, partition: Number(partition) });
    }
    assigned = next;
    membership = { joined: true };
    if (gone.length > 0) {
      log.info('partitions revoked', { partitions: gone });
      revoked.next(gone);
    }
    opts.onJoin?.(gained, gone);
    log.info('group joined', { memberId: e.payload.memberId, assignment: e.payload.memberAssignment });
  });

  /** Drops what is known of a partition's messages: its next owner (maybe this one) re-reads them. */
  function forgetPartition(k: string): void {
    const [topic, partition] = k.split('\u0000');
    tracker.drop(topic, Number(partition));
    flow.drop({ topic, partition: Number(partition) });
    const o = ownership.get(k);
    if (o !== undefined) current.delete(o);
    ownership.delete(k);
    lastCommitted.delete(k);
    awaitingFetch.delete(k);
    fetchedSince.delete(k);
  }

  function owns(source: SourceCoord): boolean {
    const o = (source as Partial<OwnedSource>)[READ_UNDER];
    return o !== undefined && current.has(o);
  }

  async function commitNow(): Promise<void> {
    const offsets = tracker
      .watermarks()
      .filter((w) => assigned.has(`${w.topic}\u0000${w.partition}`))
      .filter((w) => lastCommitted.get(`${w.topic}\u0000${w.partition}`) !== w.offset)
      .map((w) => ({ topic: w.topic, partition: w.partition, offset: w.offset }));
    if (offsets.length === 0) return;
    try {
      await opts.beforeCommit?.();
      await consumer.commitOffsets(offsets);
      for (const o of offsets) lastCommitted.set(`${o.topic}\u0000${o.partition}`, o.offset);
      metrics.inc(METRICS.offsetsCommitted, offsets.length);
      log.debug('offsets committed', { offsets });
    } catch (e) {
      // A rebalance in progress or a moved coordinator: the next tick retries with fresh state.
      log.warn('offset commit failed', { error: e, offsets: offsets.length });
    }
  }

  function commit(): Promise<void> {
    committing = committing.then(commitNow);
    return committing;
  }

  /**
   * 'reading' when the message became a reading, 'letter' when it goes to the dead-letter topic,
   * 'skipped' when it was handed over before (a kept partition re-read after a rebalance) or its
   * partition is not assigned any more (a batch fetched before a rebalance).
   */
  function handleMessage(topic: string, partition: number, m: KafkaMessage, letters: DeadLetter[]): 'reading' | 'letter' | 'skipped' {
    const o = ownership.get(`${topic}\u0000${partition}`);
    const source: OwnedSource = { topic, partition, offset: m.offset, [READ_UNDER]: o ?? 0 };
    if (o === undefined || tracker.seen(source)) return 'skipped';
    tracker.hold(source);
    try {
      const reading = opts.decode(m.value, source) as Reading;
      reading.source = source;
      appended.set(source, Number(m.timestamp));
      opts.onReading(reading);
      return 'reading';
    } catch (e) {
      if (!(e instanceof IngestError)) throw e;
      letters.push({ source, key: m.key, value: m.value, headers: m.headers, error: e });
      return 'letter';
    }
  }

  async function eachBatch(p: EachBatchPayload): Promise<void> {
    const { topic, partition } = p.batch;
    const ref: PartitionRef = { topic, partition };
    const letters: DeadLetter[] = [];
    let last: string | undefined;
    let consumed = 0;
    let decoded = 0;
    let skipped = 0;
    await opts.beforeBatch?.();
    await opts.prepare?.(p.batch.messages.map((m) => m.value), topic, { isRunning: () => p.isRunning() && !p.isStale(), heartbeat: () => p.heartbeat() });
    for (const m of p.batch.messages) {
      if (!p.isRunning() || p.isStale()) break;
      const outcome = handleMessage(topic, partition, m, letters);
      if (outcome === 'skipped') skipped++;
      else consumed++;
      if (outcome === 'reading') decoded++;
      last = m.offset;
    }
    if (skipped > 0) log.debug('messages skipped: read before, or of a partition no longer assigned', { topic, partition, skipped });
    // Counted once per batch: a labelled increment per message would cost more than the decode of a small one.
    metrics.inc(METRICS.messagesConsumed, consumed, { topic });
    metrics.inc(METRICS.readingsDecoded, decoded, { topic });
    if (last !== undefined) {
      lastMessage = Date.now();
      // Moves the fetch position only; the commit is the tracker's watermark.
      p.resolveOffset(last);
    }
    if (letters.length > 0) {
      await opts.deadLetters.publish(letters);
      tracker.releaseAll(letters.map((l) => l.source).filter(owns));
    }
    if (flow.isPaused(ref)) p.pause();
    await p.heartbeat();
  }

  return {
    tracker,
    flow,
    revoked,
    lastMessageAt: () => Math.max(lastMessage, lastActivity),
    resuming: () => awaitingFetch.size > 0 || resumedFetching || flow.anyPaused(),
    stalledWithin(ref, ms) {
      const k = `${ref.topic}\u0000${ref.partition}`;
      return flow.isPaused(ref) || awaitingFetch.has(k) || fetchStopped() || Date.now() - (fetchedSince.get(k) ?? -Infinity) < ms;
    },
    release(sources) {
      for (const s of sources) if (owns(s)) tracker.release(s);
    },
    owns,
    appendedAt: (source) => appended.get(source),
    assignment: () =>
      [...assigned].map((k) => {
        const [topic, partition] = k.split('\u0000');
        return { topic, partition: Number(partition) };
      }),
    membership: () => membership,
    commit,
    async start() {
      await consumer.connect();
      const topics = cfg.topicPattern !== null ? [new RegExp(cfg.topicPattern)] : cfg.topics;
      await consumer.subscribe({ topics, fromBeginning: cfg.fromBeginning });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch });
      lastMessage = Date.now();
      commitTimer = setInterval(() => void commit(), cfg.commitIntervalMs);
    },
    async stop(drainTimeoutMs = 30_000) {
      // Stop fetching first; what is already in flight is allowed to finish.
      const parts = [...assigned].map((k) => k.split('\u0000'));
      if (parts.length > 0) consumer.pause(parts.map(([topic, p]) => ({ topic, partitions: [Number(p)] })));
      const deadline = Date.now() + drainTimeoutMs;
      while (flow.inFlight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (flow.inFlight() > 0) log.warn('stopping with work in flight; it will be re-read on restart', { inFlight: flow.inFlight() });
      clearInterval(commitTimer);
      await commit();
      await consumer.disconnect();
    },
  };
}
