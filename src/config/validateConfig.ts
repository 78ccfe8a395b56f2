/**
 * Validation of a merged config. Each check names the key and says how to fix it.
 */
import { ConfigError } from '../errors.ts';
import { createAlertLifecycle } from '../detect/alertLifecycle.ts';
import { validateCalibrationConfig } from '../detect/calibration.ts';
import { validateLimits } from '../detect/rules/outOfRange.ts';
import { validateLevelShiftConfig } from '../detect/levelShift.ts';
import { validateOnsetGateConfig } from '../detect/onsetGate.ts';
import { OnsetScorer } from '../detect/onsetScorer.ts';
import { validateTailRankConfig } from '../detect/tailRank.ts';
import { validateThresholdStateConfig } from '../detect/thresholdState.ts';
import { resolveModelConfig } from '../model/modelConfig.ts';
import type { DiffwatchConfig, IngestFormat, ModelAssignment } from './schema.ts';

const FORMATS: readonly IngestFormat[] = ['avro', 'confluent', 'json'];

function int(key: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(key, `must be an integer, got ${JSON.stringify(v)}`);
  if (v < min || v > max) throw new ConfigError(key, `must be between ${min} and ${max}, got ${v}`);
}

function num(key: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(key, `must be a finite number, got ${JSON.stringify(v)}`);
  if (v < min) throw new ConfigError(key, `must be at least ${min}, got ${v}`);
}

function str(key: string, v: unknown): void {
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(key, `must be a non-empty string, got ${JSON.stringify(v)}`);
}

function strArray(key: string, v: unknown, allowEmpty: boolean): void {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.length === 0)) {
    throw new ConfigError(key, `must be an array of non-empty strings, got ${JSON.stringify(v)}`);
  }
  if (!allowEmpty && v.length === 0) throw new ConfigError(key, 'must not be empty');
}

function bool(key: string, v: unknown): void {
  if (typeof v !== 'boolean') throw new ConfigError(key, `must be true or false, got ${JSON.stringify(v)}`);
}

function oneOf<T>(key: string, v: unknown, allowed: readonly T[]): void {
  if (!allowed.includes(v as T)) throw new ConfigError(key, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
}

function url(key: string, v: unknown): void {
  str(key, v);
  try {
    const u = new URL(v as string);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new ConfigError(key, `must be an http(s) URL such as http://127.0.0.1:8086, got ${JSON.stringify(v)}`);
  }
}

/** An InfluxQL duration InfluxDB accepts for a retention policy (at least 1 h), or INF. */
function duration(key: string, v: unknown): void {
  if (typeof v !== 'string' || !/^(INF|[1-9]\d*[hdw])$/.test(v)) throw new ConfigError(key, `must be a duration such as 30d, 52w or 720h, or INF, got ${JSON.stringify(v)}`);
}

export function validateConfig(c: DiffwatchConfig): void {
  const k = c.kafka;
  strArray('kafka.brokers', k.brokers, false);
  for (const b of k.brokers) {
    if (!/^[^:\s]+:\d{1,5}$/.test(b)) throw new ConfigError('kafka.brokers', `"${b}" is not host:port (e.g. 127.0.0.1:9092); set KAFKA_BROKERS=host:port[,host:port]`);
  }
  str('kafka.clientId', k.clientId);
  str('kafka.groupId', k.groupId);
  strArray('kafka.topics', k.topics, true);
  if (k.topicPattern !== null) {
    str('kafka.topicPattern', k.topicPattern);
    try {
      new RegExp(k.topicPattern);
    } catch (e) {
      throw new ConfigError('kafka.topicPattern', `is not a valid regular expression: ${(e as Error).message}`);
    }
  }
  if (k.topics.length === 0 && k.topicPattern === null) throw new ConfigError('kafka.topics', 'set at least one topic, or kafka.topicPattern');
  if (k.topics.length > 0 && k.topicPattern !== null) throw new ConfigError('kafka.topicPattern', 'set either kafka.topics or kafka.topicPattern, not both');
  bool('kafka.fromBeginning', k.fromBeginning);
  int('kafka.sessionTimeoutMs', k.sessionTimeoutMs, 6_000, 300_000);
  int('kafka.heartbeatIntervalMs', k.heartbeatIntervalMs, 100);
  int('kafka.commitIntervalMs', k.commitIntervalMs, 10);
  int('kafka.maxWaitTimeMs', k.maxWaitTimeMs, 10, 60_000);
  int('kafka.maxBytesPerPartition', k.maxBytesPerPartition, 1_024);
  if (k.heartbeatIntervalMs * 3 > k.sessionTimeoutMs) throw new ConfigError('kafka.heartbeatIntervalMs', `must be at most a third of kafka.sessionTimeoutMs (${k.sessionTimeoutMs})`);

  const i = c.ingest;
  oneOf('ingest.format', i.format, FORMATS);
  for (const [topic, f] of Object.entries(i.formats)) oneOf(`ingest.formats.${topic}`, f, FORMATS);
  for (const [id, path] of Object.entries(i.schemaIds)) {
    if (!/^\d+$/.test(id)) throw new ConfigError(`ingest.schemaIds.${id}`, 'schema ids are non-negative integers');
    str(`ingest.schemaIds.${id}`, path);
  }
  for (const [topic, path] of Object.entries(i.writerSchemas)) str(`ingest.writerSchemas.${topic}`, path);
  const usesConfluent = i.format === 'confluent' || Object.values(i.formats).includes('confluent');
  if (usesConfluent && Object.keys(i.schemaIds).length === 0) throw new ConfigError('ingest.schemaIds', 'the confluent format needs at least one schema id mapped to an .avsc file');
  str('ingest.readingSchema', i.readingSchema);
  int('ingest.maxMessageBytes', i.maxMessageBytes, 64);
  int('ingest.maxNameLength', i.maxNameLength, 1);
  str('ingest.dlqSuffix', i.dlqSuffix);
  int('ingest.highWaterMark', i.highWaterMark, 1);
  int('ingest.lowWaterMark', i.lowWaterMark, 0);
  if (i.lowWaterMark >= i.highWaterMark) throw new ConfigError('ingest.lowWaterMark', `must be below ingest.highWaterMark (${i.highWaterMark})`);

  const s = c.stream;
  strArray('stream.channels', s.channels, true);
  if (new Set(s.channels).size !== s.channels.length) throw new ConfigError('stream.channels', 'channel names must be unique');
  int('stream.allowedLatenessMs', s.allowedLatenessMs, 0);
  int('stream.entityIdleMs', s.entityIdleMs, 1);
  int('stream.stepMs', s.stepMs, 0);
  int('stream.maxFillSteps', s.maxFillSteps, 0);
  int('stream.windowLength', s.windowLength, 2, 65_536);
  int('stream.hop', s.hop, 1);
  if (s.hop > s.windowLength) throw new ConfigError('stream.hop', `must be at most stream.windowLength (${s.windowLength})`);

  const sc = c.scorer;
  oneOf('scorer.kind', sc.kind, ['baseline', 'diffusion'] as const);
  int('scorer.microBatchSize', sc.microBatchSize, 1);
  int('scorer.microBatchMs', sc.microBatchMs, 0);
  int('scorer.baseline.historyLength', sc.baseline.historyLength, 8);
  int('scorer.baseline.minHistory', sc.baseline.minHistory, 1);
  if (sc.baseline.minHistory > sc.baseline.historyLength) throw new ConfigError('scorer.baseline.minHistory', `must be at most scorer.baseline.historyLength (${sc.baseline.historyLength})`);

  validateDiffusion(sc, s.windowLength);
  int('scorer.diffusion.workers', sc.diffusion.workers, 0, 64);
  oneOf('scorer.diffusion.backend', sc.diffusion.backend, ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const);

  const d = c.detect;
  str('detect.stateTopic', d.stateTopic);
  oneOf('detect.judge', d.judge, ['threshold', 'onset'] as const);
  validateThresholdStateConfig(d.threshold, 'detect.threshold');
  validateTailRankConfig(d.onsetScorer.tailRank, 'detect.onsetScorer.tailRank');
  validateOnsetGateConfig(d.onsetScorer.gate, 'detect.onsetScorer.gate');
  validateLevelShiftConfig(d.onsetScorer.levelShift, 'detect.onsetScorer.levelShift');
  new OnsetScorer(d.onsetScorer); // the remaining keys, each named in its error
  if (d.judge === 'onset' && d.lifecycle.openAfterWindows > 1) {
    throw new ConfigError('detect.lifecycle.openAfterWindows', 'must be 1 with detect.judge "onset": the onset judge triggers one window per excursion');
  }
  validateCalibrationConfig(d.threshold.calibration, 'detect.threshold.calibration');
  createAlertLifecycle(d.lifecycle); // validates every lifecycle key, naming it
  bool('detect.rules.flatline.enabled', d.rules.flatline.enabled);
  int('detect.rules.flatline.minPoints', d.rules.flatline.minPoints, 2);
  if (d.rules.flatline.enabled && d.rules.flatline.minPoints <= s.maxFillSteps) {
    throw new ConfigError('detect.rules.flatline.minPoints', `must exceed stream.maxFillSteps (${s.maxFillSteps}): forward-filled points repeat the last value and would look stuck`);
  }
  num('detect.rules.flatline.epsilon', d.rules.flatline.epsilon, 0);
  validateLimits(d.rules.outOfRange.limits, 'detect.rules.outOfRange.limits');
  bool('detect.rules.silence.enabled', d.rules.silence.enabled);
  int('detect.rules.silence.minSteps', d.rules.silence.minSteps, 1);

  str('sinks.anomaliesTopic', c.sinks.anomaliesTopic);
  int('sinks.maxBatchesInFlight', c.sinks.maxBatchesInFlight, 1, 1_024);
  const f = c.sinks.influx;
  url('sinks.influx.url', f.url);
  if (!/^[A-Za-z0-9_-]+$/.test(f.database)) throw new ConfigError('sinks.influx.database', `must be a plain name of letters, digits, _ or -, got ${JSON.stringify(f.database)}`);
  int('sinks.influx.batchSize', f.batchSize, 1);
  int('sinks.influx.flushIntervalMs', f.flushIntervalMs, 1);
  int('sinks.influx.maxBufferPoints', f.maxBufferPoints, 1);
  if (f.maxBufferPoints < f.batchSize) throw new ConfigError('sinks.influx.maxBufferPoints', `must be at least sinks.influx.batchSize (${f.batchSize})`);
  int('sinks.influx.retryDelayMs', f.retryDelayMs, 1);
  int('sinks.influx.maxRetryDelayMs', f.maxRetryDelayMs, f.retryDelayMs);
  int('sinks.influx.timeoutMs', f.timeoutMs, 100);
  const r = c.sinks.retention;
  bool('sinks.retention.enabled', r.enabled);
  for (const k of ['raw', 'minute', 'hour'] as const) duration(`sinks.retention.${k}`, r[k]);

  const st = c.stack;
  str('stack.dir', st.dir);
  if (!/^\d+\.\d+\.\d+$/.test(st.kafkaVersion)) throw new ConfigError('stack.kafkaVersion', `must be a release such as 4.1.1, got ${JSON.stringify(st.kafkaVersion)}`);
  int('stack.kafkaPort', st.kafkaPort, 1, 65_535);
  int('stack.controllerPort', st.controllerPort, 1, 65_535);
  int('stack.influxPort', st.influxPort, 1, 65_535);
  if (new Set([st.kafkaPort, st.controllerPort, st.influxPort]).size !== 3) throw new ConfigError('stack.kafkaPort', 'stack.kafkaPort, stack.controllerPort and stack.influxPort must differ');
  int('stack.readyTimeoutMs', st.readyTimeoutMs, 1_000);

  const o = c.ops;
  bool('ops.http.enabled', o.http.enabled);
  str('ops.http.host', o.http.host);
  int('ops.http.port', o.http.port, 0, 65_535);
  int('ops.internalIntervalMs', o.internalIntervalMs, 0);
  if (o.internalIntervalMs > 0 && o.internalIntervalMs < 1_000) throw new ConfigError('ops.internalIntervalMs', `must be 0 (off) or at least 1000 ms, got ${o.internalIntervalMs}`);

  oneOf('log.level', c.log.level, ['debug', 'info', 'warn', 'error', 'silent'] as const);
}

const ASSIGNMENT_KEYS: Record<ModelAssignment['use'], string[]> = {
  dir: ['match', 'use', 'dir', 'normalization'],
  entity: ['match', 'use'],
  group: ['match', 'use', 'group'],
};

function validateAssignment(key: string, r: unknown): ModelAssignment {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new ConfigError(key, `must be an object such as {"match": "^pump-", "use": "entity"}, got ${JSON.stringify(r)}`);
  const rule = r as Record<string, unknown>;
  oneOf(`${key}.use`, rule.use, ['dir', 'entity', 'group'] as const);
  const use = rule.use as ModelAssignment['use'];
  for (const k of Object.keys(rule)) {
    if (!ASSIGNMENT_KEYS[use].includes(k)) throw new ConfigError(`${key}.${k}`, `unknown key for use "${use}". Known keys: ${ASSIGNMENT_KEYS[use].join(', ')}`);
  }
  str(`${key}.match`, rule.match);
  try {
    new RegExp(rule.match as string);
  } catch (e) {
    throw new ConfigError(`${key}.match`, `is not a valid regular expression: ${(e as Error).message}`);
  }
  if (use === 'dir') {
    str(`${key}.dir`, rule.dir);
    oneOf(`${key}.normalization`, rule.normalization, ['model', 'entity'] as const);
  }
  if (use === 'group' && (typeof rule.group !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(rule.group))) {
    throw new ConfigError(`${key}.group`, `must be a name of letters, digits, _ . or -, got ${JSON.stringify(rule.group)}`);
  }
  return rule as unknown as ModelAssignment;
}

/** The diffusion scorer's models: where they come from, and what the service may train. */
function validateDiffusion(sc: DiffwatchConfig['scorer'], windowLength: number): void {
  const d = sc.diffusion;
  if (d.modelDir !== null) str('scorer.diffusion.modelDir', d.modelDir);
  if (d.modelStore !== null) str('scorer.diffusion.modelStore', d.modelStore);
  if (!Array.isArray(d.models)) throw new ConfigError('scorer.diffusion.models', `must be an array of rules, got ${JSON.stringify(d.models)}`);
  const rules = d.models.map((r, i) => validateAssignment(`scorer.diffusion.models[${i}]`, r));
  const trains = d.modelDir === null || rules.some((r) => r.use !== 'dir' || r.normalization === 'entity');
  if (sc.kind === 'diffusion' && d.modelDir === null && d.modelStore === null) {
    throw new ConfigError('scorer.diffusion.modelDir', 'the diffusion scorer needs a checkpoint directory (write one with `diffwatch train --out <dir>`), or scorer.diffusion.modelStore to train a model per entity');
  }
  if (sc.kind === 'diffusion' && trains && d.modelStore === null) {
    throw new ConfigError('scorer.diffusion.modelStore', 'models the service trains (per entity or group) and per-entity normalization need a directory: set scorer.diffusion.modelStore');
  }
  const cs = d.coldStart;
  int('scorer.diffusion.coldStart.windows', cs.windows, 16);
  int('scorer.diffusion.coldStart.maxConcurrent', cs.maxConcurrent, 1, 16);
  bool('scorer.diffusion.coldStart.hold', cs.hold);
  if (typeof cs.training !== 'object' || cs.training === null || Array.isArray(cs.training)) throw new ConfigError('scorer.diffusion.coldStart.training', `must be an object of model settings, got ${JSON.stringify(cs.training)}`);
  if ('windowLength' in cs.training && cs.training.windowLength !== windowLength) {
    throw new ConfigError('scorer.diffusion.coldStart.training.windowLength', `must equal stream.windowLength (${windowLength}); leave it out to use that`);
  }
  try {
    resolveModelConfig({ ...cs.training, windowLength });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const key = String(e.coords.key ?? 'model').replace(/^model\./, 'scorer.diffusion.coldStart.training.');
    throw new ConfigError(key, e.message.replace(/^config [^:]+: /, ''));
  }
  const ft = d.fineTune;
  int('scorer.diffusion.fineTune.everyWindows', ft.everyWindows, 0);
  int('scorer.diffusion.fineTune.recentWindows', ft.recentWindows, 16);
  int('scorer.diffusion.fineTune.epochs', ft.epochs, 1, 1_000);
  bool('scorer.diffusion.fineTune.refitNormalization', ft.refitNormalization);
  int('scorer.diffusion.fineTune.adoptAfterWindows', ft.adoptAfterWindows, 0);
  if (ft.adoptAfterWindows > 0 && ft.adoptAfterWindows < 4 * windowLength) {
    throw new ConfigError('scorer.diffusion.fineTune.adoptAfterWindows', `must be 0 (never) or at least 4 × stream.windowLength (${4 * windowLength}) windows, enough to fine-tune on`);
  }
}
